/**
 * The keys of a limit that sees the response: `cost: {response: <arg>, estimate, max}`,
 * `concurrency`, `leaseTtl` and `denyStatus` (see src/ratelimit/response/).
 * @module
 */
import type { ConcurrencySpec, CostSpec } from "../ratelimit/policy/types.ts";
import { type IssueSink, shown } from "./errors.ts";

const ARG = /^[A-Za-z0-9_.-]+$/;
/** Default bound on one response's cost: large enough for any real answer, small enough to refuse garbage. */
export const DEFAULT_RESPONSE_COST_MAX = 1_000_000_000;
/** Default lease lifetime: the shipped HAProxy configs' `timeout server 30s`. */
export const DEFAULT_LEASE_TTL_SECONDS = 30;
const DURATION = /^\s*([0-9]+)\s*(ms|s|m|h)?\s*$/;
const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

const whole = (v: unknown, min: number): v is number => Number.isSafeInteger(v) && (v as number) >= min;

/** True when `raw` is written as a response cost (`{response: …}`). */
export function isResponseCost(raw: unknown): raw is Record<string, unknown> {
  return typeof raw === "object" && raw !== null && !Array.isArray(raw) && "response" in raw;
}

/** `{response: <arg>, estimate: 0, max: 1e9}` → a response CostSpec. */
export function parseResponseCost(raw: Record<string, unknown>, path: string, sink: IssueSink): CostSpec {
  for (const k of Object.keys(raw)) {
    if (!["response", "estimate", "max"].includes(k)) sink.add(`${path}.${k}`, `unknown key "${k}"`, "a response cost takes response, estimate and max");
  }
  const arg = raw.response;
  if (typeof arg !== "string" || !ARG.test(arg)) {
    sink.add(`${path}.response`, `expected the response message's argument name, got ${shown(arg)}`, 'e.g. "tokens" for args tokens=res.hdr(x-tokens-used)');
  }
  const estimate = raw.estimate ?? 0;
  const max = raw.max ?? DEFAULT_RESPONSE_COST_MAX;
  if (!whole(estimate, 0)) sink.add(`${path}.estimate`, `expected a whole number ≥ 0, got ${shown(estimate)}`);
  if (!whole(max, 1)) sink.add(`${path}.max`, `expected a whole number ≥ 1, got ${shown(max)}`);
  return {
    kind: "response",
    arg: typeof arg === "string" ? arg : "",
    estimate: whole(estimate, 0) ? estimate : 0,
    max: whole(max, 1) ? max : DEFAULT_RESPONSE_COST_MAX,
  };
}

/** Seconds of `30s`, `2m`, `500ms`, `1h` or a number of seconds; undefined when malformed or not positive. */
export function parseDurationSeconds(raw: unknown): number | undefined {
  if (typeof raw === "number") return Number.isFinite(raw) && raw > 0 ? raw : undefined;
  if (typeof raw !== "string") return undefined;
  const m = DURATION.exec(raw);
  if (m === null) return undefined;
  const ms = Number(m[1]) * UNIT_MS[m[2] ?? "s"];
  return ms > 0 ? ms / 1000 : undefined;
}

/** `concurrency`, `leaseTtl` and `denyStatus` of one limit; undefined without `concurrency`. */
export function parseConcurrency(raw: Record<string, unknown>, path: string, sink: IssueSink): ConcurrencySpec | undefined {
  const max = raw.concurrency;
  if (max === undefined) {
    for (const k of ["leaseTtl", "denyStatus"]) {
      if (raw[k] !== undefined) sink.add(`${path}.${k}`, `${k} applies only to a concurrency limit`, "add concurrency: <N> or remove it");
    }
    return undefined;
  }
  if (!whole(max, 1) || max > 1_000_000) {
    sink.add(`${path}.concurrency`, `expected a whole number from 1 to 1000000, got ${shown(max)}`);
    return undefined;
  }
  const ttl = raw.leaseTtl === undefined ? DEFAULT_LEASE_TTL_SECONDS : parseDurationSeconds(raw.leaseTtl);
  if (ttl === undefined || ttl > 86_400) {
    sink.add(`${path}.leaseTtl`, `expected a duration up to 24h such as "30s", "2m" or "500ms", got ${shown(raw.leaseTtl)}`, "at least HAProxy's timeout server, so a slow answer keeps its slot");
    return undefined;
  }
  const status = raw.denyStatus ?? 429;
  if (status !== 429 && status !== 503) {
    sink.add(`${path}.denyStatus`, `expected 429 or 503, got ${shown(status)}`);
    return undefined;
  }
  return { max, leaseTtlSeconds: ttl, denyStatus: status };
}
