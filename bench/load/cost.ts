/**
 * CPU per decision, the figure that holds on a noisy machine: starts one agent (memory or Valkey
 * store; Valkey on this host), drives it with the load generator in a closed loop and in open
 * loops at fixed rates, and reports for each the agent's CPU µs per decision (utime+stime from
 * /proc/PID/stat around the measured window), Valkey's, the share of decisions the failure
 * policy made (from the agent's /metrics), decisions/s and latency.
 *
 *   bun run bench/load/cost.ts --store memory|valkey [--agent dist/spoa-gcra] [--duration 5s]
 *       [--rates 10000,20000] [--open-connections 4] [--closed 16x20] [--only closed|open]
 *       [--agent-args "--valkey-deadline 25"] [--floor] [--json]
 *
 * --floor adds, per scenario, a row for bench/load/floor-agent.ts (the library's Agent answering
 * a constant, no limiter, no store): the CPU the runtime and the kernel charge per decision
 * before any of the agent's own work, measured in the same minutes as the agent's row.
 *
 * Every process started here is stopped at the end; each scenario gets a fresh agent (and an
 * emptied Valkey), so one scenario's backlog or heap never bills the next.
 * @module
 */
import { existsSync, rmSync } from "node:fs";
import { histogramBuckets, shareAbove } from "./agent-metrics.ts";
import { parseDuration } from "./args.ts";
import type { LoadResult } from "./run.ts";
import { BUN, freePort, ROOT, runToEnd, start, stopAll, waitForPort } from "../lib/processes.ts";
import { startValkey, type ValkeyProcess } from "../../tests/helpers/valkey.ts";

interface CostOptions {
  readonly store: "memory" | "valkey";
  /** The agent command before `serve …`: a binary path, or "bun" for `bun run src/cli/main.ts`. */
  readonly agent: readonly string[];
  readonly duration: string;
  readonly rates: readonly number[];
  readonly openConnections: number;
  readonly closed: { readonly connections: number; readonly pipeline: number };
  readonly only: "all" | "closed" | "open";
  readonly agentArgs: readonly string[];
  readonly json: boolean;
  /** Also run each scenario against bench/load/floor-agent.ts (constant answer): what runtime and kernel charge. */
  readonly floor: boolean;
}

function parse(argv: readonly string[]): CostOptions {
  const get = (name: string, fallback: string): string => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : fallback;
  };
  const store = get("store", "memory");
  if (store !== "memory" && store !== "valkey") throw new Error("--store must be memory or valkey");
  const agentPath = get("agent", `${ROOT}dist/spoa-gcra`);
  const agent = agentPath === "bun" ? [BUN, "run", `${ROOT}src/cli/main.ts`] : [agentPath];
  if (agentPath !== "bun" && !existsSync(agentPath)) throw new Error(`${agentPath} is missing: build it with  npm run compile`);
  const closed = /^(\d+)x(\d+)$/.exec(get("closed", "16x20"));
  if (closed === null) throw new Error("--closed must be CONNECTIONSxIN_FLIGHT, e.g. 16x20");
  const only = get("only", "all");
  if (only !== "all" && only !== "closed" && only !== "open") throw new Error("--only must be closed or open");
  parseDuration(get("duration", "5s")); // fail early on a bad duration
  return {
    store,
    agent,
    duration: get("duration", "5s"),
    rates: get("rates", "10000,20000").split(",").map(Number),
    openConnections: Number(get("open-connections", "4")),
    closed: { connections: Number(closed[1]), pipeline: Number(closed[2]) },
    only,
    agentArgs: get("agent-args", "").split(" ").filter((a) => a.length > 0),
    json: argv.includes("--json"),
    floor: argv.includes("--floor"),
  };
}

/** One scenario's figures. */
interface Row {
  readonly scenario: string;
  readonly decisionsPerS: number;
  readonly agentCpuUs: number | undefined;
  readonly valkeyCpuUs: number | undefined;
  readonly failurePolicyShare: number | undefined;
  readonly degraded: number | undefined;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly unanswered: number;
  readonly otherCpuS: number | undefined;
  /** Share of Valkey round trips (as the agent timed them, whole run) above 10, 25 and 50 ms. */
  readonly storeSlowShare: { readonly over10ms?: number; readonly over25ms?: number; readonly over50ms?: number };
}

async function valkeyPid(valkey: ValkeyProcess): Promise<number> {
  const info = await valkey.cli("INFO", "server");
  const m = /process_id:(\d+)/.exec(info);
  if (m === null) throw new Error("valkey INFO has no process_id");
  return Number(m[1]);
}

function rowOf(scenario: string, r: LoadResult, storeSlowShare: Row["storeSlowShare"]): Row {
  return {
    scenario,
    storeSlowShare,
    decisionsPerS: Math.round(r.acksPerSecond),
    agentCpuUs: r.agentCpuUsPerAck,
    valkeyCpuUs: r.storeCpuUsPerAck,
    failurePolicyShare: r.failurePolicy?.share,
    degraded: r.failurePolicy?.degraded,
    p50Ms: r.latencyUs.p50Us / 1000,
    p99Ms: r.latencyUs.p99Us / 1000,
    unanswered: r.unanswered,
    otherCpuS: r.otherCpuSeconds,
  };
}

async function scenario(o: CostOptions, valkey: ValkeyProcess | undefined, name: string, loadArgs: readonly string[]): Promise<Row> {
  const port = await freePort();
  const metricsPort = await freePort();
  const storeArgs = valkey === undefined ? [] : ["--valkey-url", valkey.url];
  if (valkey !== undefined) await valkey.cli("FLUSHALL");
  // A limit nobody reaches (1 µs interval, 1000 s burst): every decision does the full work.
  const agent = start("agent", [...o.agent, "serve", "--listen", `127.0.0.1:${port}`, "--metrics", `127.0.0.1:${metricsPort}`, ...storeArgs, ...o.agentArgs], {
    SPOA_RATE_INTERVAL: "1",
    SPOA_RATE_BURST: "1000000000",
    LOG_LEVEL: "warn",
  });
  try {
    if (!(await waitForPort(port, 15_000)) || !(await waitForPort(metricsPort, 5_000))) throw new Error(`agent did not start:\n${agent.output()}`);
    const extra = valkey === undefined ? [] : ["--store-pid", String(await valkeyPid(valkey))];
    const cmd = [BUN, "run", `${ROOT}bench/load/main.ts`, "--target", `127.0.0.1:${port}`, "--agent-pid", String(agent.pid), "--agent-metrics", `127.0.0.1:${metricsPort}`, "--duration", o.duration, "--json", ...extra, ...loadArgs];
    const out = await runToEnd(cmd, parseDuration(o.duration) + 30_000);
    const line = out.stdout.trim().split("\n").at(-1) ?? "";
    let r: LoadResult;
    try {
      r = JSON.parse(line) as LoadResult;
    } catch {
      throw new Error(`load generator failed (${out.code}): ${out.stderr}${out.stdout}`);
    }
    const metricsText = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    const rtt = histogramBuckets(metricsText, "spoa_store_duration_seconds");
    return rowOf(name, r, { over10ms: shareAbove(rtt, 0.01), over25ms: shareAbove(rtt, 0.025), over50ms: shareAbove(rtt, 0.05) });
  } finally {
    await agent.stop();
  }
}

/** The same load against the floor agent: no metrics, no store, so only CPU, rate and latency. */
async function floorScenario(o: CostOptions, name: string, loadArgs: readonly string[]): Promise<Row> {
  const port = await freePort();
  const agent = start("floor", [BUN, `${ROOT}bench/load/floor-agent.ts`, "--listen", `127.0.0.1:${port}`, "--mode", "library"]);
  try {
    if (!(await waitForPort(port, 15_000))) throw new Error(`floor agent did not start:\n${agent.output()}`);
    const cmd = [BUN, "run", `${ROOT}bench/load/main.ts`, "--target", `127.0.0.1:${port}`, "--agent-pid", String(agent.pid), "--duration", o.duration, "--json", ...loadArgs];
    const out = await runToEnd(cmd, parseDuration(o.duration) + 30_000);
    const r = JSON.parse(out.stdout.trim().split("\n").at(-1) ?? "") as LoadResult;
    return rowOf(`${name}, floor`, r, {});
  } finally {
    await agent.stop();
  }
}

function table(o: CostOptions, rows: readonly Row[]): string {
  const f = (n: number | undefined, digits: number) => (n === undefined ? "—" : n.toFixed(digits));
  const pct = (n: number | undefined) => (n === undefined ? "—" : `${(n * 100).toFixed(2)}`);
  const head = `| ${o.store} store | decisions/s | agent CPU µs/decision | Valkey CPU µs/decision | failure policy | p50 / p99 ms | Valkey RTT % > 10 / 25 / 50 ms | unanswered | other CPU s |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|`;
  return [head, ...rows.map((r) =>
    `| ${r.scenario} | ${r.decisionsPerS.toLocaleString("en-US")} | ${f(r.agentCpuUs, 2)} | ${f(r.valkeyCpuUs, 2)} | ${r.failurePolicyShare === undefined ? "—" : `${(r.failurePolicyShare * 100).toFixed(3)} % (${r.degraded})`} | ${f(r.p50Ms, 2)} / ${f(r.p99Ms, 2)} | ${pct(r.storeSlowShare.over10ms)} / ${pct(r.storeSlowShare.over25ms)} / ${pct(r.storeSlowShare.over50ms)} | ${r.unanswered} | ${f(r.otherCpuS, 1)} |`
  )].join("\n");
}

async function main(): Promise<void> {
  const o = parse(process.argv.slice(2));
  const valkey = o.store === "valkey" ? await startValkey() : undefined;
  const rows: Row[] = [];
  try {
    const load = (await runToEnd(["cat", "/proc/loadavg"], 1000)).stdout.trim();
    if (o.only !== "open") {
      const { connections, pipeline } = o.closed;
      const args = ["--mode", "closed", "--connections", String(connections), "--pipeline", String(pipeline)];
      rows.push(await scenario(o, valkey, `closed ${connections}×${pipeline}`, args));
      if (o.floor) rows.push(await floorScenario(o, `closed ${connections}×${pipeline}`, args));
    }
    if (o.only !== "closed") {
      for (const rate of o.rates) {
        const name = `open ${rate / 1000}k/s × ${o.openConnections} conns`;
        const args = ["--mode", "open", "--rate", String(rate), "--connections", String(o.openConnections), "--pipeline", "200"];
        rows.push(await scenario(o, valkey, name, args));
        if (o.floor) rows.push(await floorScenario(o, name, args));
      }
    }
    if (o.json) console.log(JSON.stringify({ store: o.store, agent: o.agent.join(" "), agentArgs: o.agentArgs, loadBefore: load, rows }));
    else console.log(`${o.agent.join(" ")} ${o.agentArgs.join(" ")} · ${o.duration} per scenario · load before: ${load}\n\n${table(o, rows)}`);
  } finally {
    await stopAll();
    await valkey?.stop();
    if (valkey !== undefined) rmSync(valkey.dir, { recursive: true, force: true });
  }
}

await main();
