// deploy/observability: every PromQL expression of the Grafana dashboard and the alert rules
// parses (promtool, when installed) and names only metrics a real agent exports on /metrics.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parse } from "yaml";
import { type AgentProcess, startAgent } from "../helpers/agent-process.ts";
import { freePort } from "../helpers/ports.ts";
import { scrape } from "../helpers/prometheus.ts";

const DIR = resolve(import.meta.dir, "../../deploy/observability");
const PROMTOOL = Bun.which("promtool");

interface Panel {
  readonly id: number;
  readonly title: string;
  readonly datasource?: { readonly uid?: string };
  readonly targets?: readonly { readonly expr: string }[];
}
interface Rule {
  readonly alert?: string;
  readonly expr: string;
}

const dashboard = JSON.parse(readFileSync(join(DIR, "grafana-dashboard.json"), "utf8")) as { panels: Panel[]; uid: string };
const rules = (parse(readFileSync(join(DIR, "alerts.yaml"), "utf8")) as { groups: { rules: Rule[] }[] }).groups.flatMap((g) => g.rules);
const panelExprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ where: `panel "${p.title}"`, expr: t.expr })));
const ruleExprs = rules.map((r) => ({ where: `alert ${r.alert}`, expr: r.expr }));
const all = [...panelExprs, ...ruleExprs];

/** Grafana's variables as a query would see them, so the text is plain PromQL. */
const asPromql = (expr: string) => expr.replaceAll("$__rate_interval", "5m").replaceAll("$instance", ".*");
const metricNames = (expr: string) => [...new Set(expr.match(/\bspoa_[a-z0-9_]+\b/g) ?? [])];

let agent: AgentProcess;
let exposed: Set<string>;
beforeAll(async () => {
  const metrics = await freePort();
  agent = await startAgent({ runtime: "bun", args: ["serve", "--listen", `127.0.0.1:${await freePort()}`, "--metrics", `127.0.0.1:${metrics}`] });
  const families = await scrape(metrics);
  exposed = new Set<string>();
  for (const family of families.values()) {
    exposed.add(family.name);
    for (const sample of family.samples) exposed.add(sample.name);
    // A histogram's series exist as soon as the family does (the buckets render with 0 counts).
    if (family.type === "histogram") for (const suffix of ["_bucket", "_sum", "_count"]) exposed.add(`${family.name}${suffix}`);
  }
}, 30_000);
afterAll(async () => {
  await agent?.stop();
});

describe("deploy/observability", () => {
  test("the dashboard and the rules have expressions to check, each naming at least one agent metric", () => {
    expect(panelExprs.length).toBeGreaterThanOrEqual(15);
    expect(ruleExprs.length).toBeGreaterThanOrEqual(10);
    for (const { where, expr } of all) expect({ where, metrics: metricNames(expr).length > 0 }).toEqual({ where, metrics: true });
  });

  test("every metric a panel or a rule uses exists on a real agent's /metrics", () => {
    const missing = all.flatMap(({ where, expr }) => metricNames(expr).filter((m) => !exposed.has(m)).map((m) => `${where}: ${m}`));
    expect(missing).toEqual([]);
  });

  test("the dashboard covers decisions, decision and store latency, degraded decisions, breaker, connections, lag and RSS", () => {
    const used = new Set(panelExprs.flatMap(({ expr }) => metricNames(expr)));
    for (const m of ["spoa_decisions_total", "spoa_decision_duration_seconds_bucket", "spoa_store_duration_seconds_bucket", "spoa_degraded_decisions_total",
      "spoa_circuit_breaker_state", "spoa_connections_open", "spoa_event_loop_lag_seconds", "spoa_process_resident_memory_bytes"]) {
      expect(used.has(m)).toBe(true);
    }
  });

  test("panels have unique ids and use the dashboard's data source variable", () => {
    expect(new Set(dashboard.panels.map((p) => p.id)).size).toBe(dashboard.panels.length);
    for (const p of dashboard.panels) expect(p.datasource?.uid).toBe("${datasource}");
  });

  test("brackets balance in every expression", () => {
    for (const { where, expr } of all) {
      let depth = 0;
      for (const ch of expr.replace(/"(?:[^"\\]|\\.)*"/g, "")) {
        if ("([{".includes(ch)) depth++;
        if (")]}".includes(ch)) depth--;
        expect({ where, negative: depth < 0 }).toEqual({ where, negative: false });
      }
      expect({ where, depth }).toEqual({ where, depth: 0 });
    }
  });

  test.skipIf(PROMTOOL === null)(`promtool check rules passes on alerts.yaml and on the dashboard's expressions${PROMTOOL === null ? " (skipped: no promtool on PATH)" : ""}`, () => {
    const check = (file: string) => Bun.spawnSync([PROMTOOL!, "check", "rules", file]);
    const alerts = check(join(DIR, "alerts.yaml"));
    expect({ code: alerts.exitCode, out: alerts.stdout.toString() + alerts.stderr.toString() }).toMatchObject({ code: 0 });
    // The dashboard's queries as recording rules: promtool parses each with Prometheus' own parser.
    const dir = mkdtempSync(join(tmpdir(), "dashboard-rules-"));
    try {
      const file = join(dir, "dashboard.yaml");
      const records = panelExprs.map(({ expr }, i) => `      - record: dashboard:query_${i}\n        expr: ${JSON.stringify(asPromql(expr))}`);
      writeFileSync(file, `groups:\n  - name: dashboard\n    rules:\n${records.join("\n")}\n`);
      const panels = check(file);
      expect({ code: panels.exitCode, out: panels.stdout.toString() + panels.stderr.toString() }).toMatchObject({ code: 0 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
