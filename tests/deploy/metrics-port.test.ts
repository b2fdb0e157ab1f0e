// The metrics listener's default: loopback (a bare host exposes nothing by default), on a port
// outside the block Prometheus hands out to exporters (9100–9999: node_exporter holds 9100),
// and every shipped file that names the port names the same one.
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseAllDocuments } from "yaml";
import { FIELDS } from "../../src/config/fields.ts";

const ROOT = resolve(import.meta.dir, "../..");
const read = (path: string) => readFileSync(resolve(ROOT, path), "utf8");
const metricsDefault = String(FIELDS.find((f) => f.key === "metrics")?.default);
const port = Number(metricsDefault.split(":").pop());

function filesUnder(dir: string): string[] {
  return readdirSync(resolve(ROOT, dir)).flatMap((name) => {
    const path = join(dir, name);
    return statSync(resolve(ROOT, path)).isDirectory() ? filesUnder(path) : [path];
  });
}

describe("the default metrics address", () => {
  test("is loopback, on a port outside Prometheus' exporter block and its own servers' ports", () => {
    expect(metricsDefault.startsWith("127.0.0.1:")).toBe(true);
    expect(port >= 9090 && port <= 9999).toBe(false);
  });

  test("docs/metrics.md says why", () => {
    const doc = read("docs/metrics.md");
    expect(doc).toContain(`\`${metricsDefault}\``);
    expect(doc).toContain("node_exporter");
  });

  test("the image and compose listen on every interface of the container, on the default port", () => {
    expect(read("Containerfile")).toContain(`METRICS_ADDR=0.0.0.0:${port}`);
    expect(read("Containerfile")).toMatch(new RegExp(`EXPOSE .*\\b${port}\\b`));
    const compose = read("deploy/compose.yaml");
    expect(compose).toContain(`METRICS_ADDR: 0.0.0.0:${port}`);
    // The host side is a variable (METRICS_PORT) defaulting to the same port.
    expect(compose).toContain(`"127.0.0.1:\${METRICS_PORT:-${port}}:${port}"`);
  });

  test("the Kubernetes sidecar sets METRICS_ADDR=0.0.0.0:<port> explicitly, so Prometheus can scrape the pod", () => {
    const [deployment] = parseAllDocuments(read("deploy/kubernetes/base/haproxy-deployment.yaml")).map((d) => d.toJS());
    const agent = deployment.spec.template.spec.initContainers.find((c: { name: string }) => c.name === "spoa-gcra");
    const env = Object.fromEntries(agent.env.map((e: { name: string; value?: string }) => [e.name, e.value]));
    expect(env.METRICS_ADDR).toBe(`0.0.0.0:${port}`);
    expect(agent.ports.find((p: { name: string }) => p.name === "metrics").containerPort).toBe(port);
    expect(deployment.spec.template.metadata.annotations["prometheus.io/port"]).toBe(String(port));
  });

  test("no shipped file or doc still names node_exporter's port as ours", () => {
    const files = ["Containerfile", "README.md", ...filesUnder("deploy"), ...filesUnder("docs")].filter((f) => !f.endsWith("metrics.md"));
    const offenders = files.filter((f) => /\b9100\b/.test(read(f)));
    expect(offenders).toEqual([]);
  });
});
