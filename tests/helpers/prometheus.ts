/**
 * Scrapes an agent's /metrics the way Prometheus would — on a fresh connection, parsed and
 * validated by the strict text-format parser in tests/observe/prom-parser.ts — and sums samples.
 * @module
 */
import { type ParsedFamily, parsePrometheus } from "../observe/prom-parser.ts";
import { httpRequest, type HttpResponse } from "./http-client.ts";

export type { ParsedFamily } from "../observe/prom-parser.ts";

/** The port of a "host:port" address (the `metrics` field of the "listening" log line). */
export function portOf(address: string): number {
  const port = Number(address.slice(address.lastIndexOf(":") + 1));
  if (!Number.isInteger(port) || port <= 0) throw new Error(`no port in address ${JSON.stringify(address)}`);
  return port;
}

/** GET `path` on 127.0.0.1:`port` over a new connection (Connection: close). */
export function getPath(port: number, path: string, timeoutMs = 5_000): Promise<HttpResponse> {
  return httpRequest({ port, path }, timeoutMs);
}

/** Fetches and parses /metrics; throws when the status is not 200 or the text is malformed. */
export async function scrape(port: number): Promise<Map<string, ParsedFamily>> {
  const response = await getPath(port, "/metrics");
  if (response.status !== 200) throw new Error(`/metrics answered ${response.status}`);
  const type = response.headers.get("content-type") ?? "";
  if (!type.startsWith("text/plain")) throw new Error(`/metrics content-type ${type}`);
  return parsePrometheus(response.body);
}

/** Sum of the samples named `name` whose labels include `labels` (0 when there are none). */
export function sumOf(families: Map<string, ParsedFamily>, name: string, labels: Readonly<Record<string, string>> = {}): number {
  let sum = 0;
  for (const family of families.values()) {
    for (const sample of family.samples) {
      if (sample.name !== name) continue;
      if (Object.entries(labels).every(([k, v]) => sample.labels[k] === v)) sum += sample.value;
    }
  }
  return sum;
}

/** The single value of `name` (with `labels`); throws when absent, so a renamed metric fails loudly. */
export function valueOf(families: Map<string, ParsedFamily>, name: string, labels: Readonly<Record<string, string>> = {}): number {
  for (const family of families.values()) {
    for (const sample of family.samples) {
      if (sample.name === name && Object.entries(labels).every(([k, v]) => sample.labels[k] === v)) return sample.value;
    }
  }
  throw new Error(`metric ${name}${JSON.stringify(labels)} is not exposed`);
}

/**
 * Sum of the samples named `name` (with `labels`) on the agent's /metrics at `address`
 * ("host:port"), scraped and parsed like scrape(); 0 when there are none.
 */
export async function metricSum(address: string, name: string, labels: Readonly<Record<string, string>> = {}): Promise<number> {
  return sumOf(await scrape(portOf(address)), name, labels);
}
