/**
 * The whole agent over Valkey, measured from the HAProxy side: one compiled-binary agent, one
 * local valkey-server, the SPOP load generator (bench/load) driving it. Prints one JSON line per
 * scenario and a summary table; docs/valkey.md records the results.
 *
 *   ./node_modules/.bin/bun bench/valkey/agent-throughput.ts [--duration 5s] [--only closed|open|hot|valkey] [--rate 20000]
 *
 * Scenarios:
 * - closed: decisions/s, closed loop (16 connections × 20 in flight), 1 / 10k / 1M keys,
 *   micro-batching on and off (`store.valkey.batch` in a config file: it is file-only).
 * - open: ACK latency at a fixed 20k/s (open loop, no coordinated omission), Valkey vs memory store.
 * - hot: 10 hot keys get 90% of 20k/s: deny-cache hit rate from spoa_deny_cache_hits_total.
 * - valkey: what valkey-benchmark gets from the same server for the same script (EVALSHA).
 * @module
 */
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type AgentProcess, startAgent } from "../../tests/helpers/agent-process.ts";
import { freePort } from "../../tests/helpers/ports.ts";
import { metricSum } from "../../tests/helpers/prometheus.ts";
import { startValkey, tempDir, type ValkeyProcess } from "../../tests/helpers/valkey.ts";
import { GCRA_LUA } from "../../src/ratelimit/gcra-lua.ts";
import { BUN, ROOT } from "../lib/processes.ts";

const argv = process.argv.slice(2);
const arg = (name: string, fallback: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : fallback;
};
const DURATION = arg("duration", "5s");
const ONLY = arg("only", "all");
/** Offered load of the open-loop scenarios (open, hot). */
const RATE = Number(arg("rate", "20000"));

interface LoadJson {
  readonly acksPerSecond: number;
  readonly acks: number;
  readonly allowed: number;
  readonly denied: number;
  readonly unanswered: number;
  readonly distinctKeys: number;
  readonly latencyUs: { readonly p50Us: number; readonly p99Us: number; readonly p999Us: number; readonly maxUs: number };
  readonly agentCpuUsPerAck?: number;
  readonly storeCpuUsPerAck?: number;
  readonly failurePolicy?: { readonly decisions: number; readonly degraded: number; readonly share: number };
  readonly errors: Readonly<Record<string, number>>;
}

/** The scenario's agent and Valkey, for CPU per decision and the failure policy's share. */
interface Watched {
  readonly agentPid: number;
  readonly metrics: string;
}

async function load(port: number, watched: Watched, extra: readonly string[]): Promise<LoadJson> {
  const storePid = valkeyPid === undefined ? [] : ["--store-pid", String(valkeyPid)];
  const child = Bun.spawn([BUN, "run", `${ROOT}bench/load/main.ts`, "--target", `127.0.0.1:${port}`, "--ipv6-share", "0", "--agent-pid", String(watched.agentPid), "--agent-metrics", watched.metrics, ...storePid, "--json", ...extra], {
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  const line = out.trim().split("\n").at(-1) ?? "";
  try {
    return JSON.parse(line) as LoadJson;
  } catch {
    throw new Error(`load generator failed: ${err}\n${out}`);
  }
}

interface Setup {
  readonly agent: AgentProcess;
  readonly port: number;
  readonly metrics: string;
}

async function withAgent<T>(
  valkey: ValkeyProcess | undefined,
  opts: { readonly batch?: boolean; readonly intervalUs: number; readonly burstUs: number; readonly deadlineMs?: number },
  body: (s: Setup) => Promise<T>,
): Promise<T> {
  const dir = tempDir("spoa-bench-");
  const config = join(dir, "agent.yaml");
  const store = valkey === undefined
    ? ""
    : `store:\n  valkey:\n    url: ${valkey.url}\n    batch: ${opts.batch ?? true}\n    deadlineMs: ${opts.deadlineMs ?? 10}\n`;
  writeFileSync(config, `defaultLimit:\n  intervalUs: ${opts.intervalUs}\n  burstUs: ${opts.burstUs}\n${store}`);
  const port = await freePort();
  const agent = await startAgent({ runtime: "binary", args: ["serve", "--listen", `127.0.0.1:${port}`, "--config", config, "--metrics", "127.0.0.1:0"] });
  try {
    return await body({ agent, port, metrics: String((await agent.waitForLog("listening")).metrics) });
  } finally {
    await agent.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const degradedOf = (metrics: string) => metricSum(metrics, "spoa_degraded_decisions_total");
const ms = (us: number) => (us / 1000).toFixed(2);
const rows: string[] = [];
const report = (name: string, r: LoadJson, extra: Record<string, unknown> = {}) => {
  const summary = {
    scenario: name,
    decisionsPerS: Math.round(r.acksPerSecond),
    p50Ms: ms(r.latencyUs.p50Us),
    p99Ms: ms(r.latencyUs.p99Us),
    agentCpuUsPerAck: r.agentCpuUsPerAck?.toFixed(1),
    valkeyCpuUsPerAck: r.storeCpuUsPerAck?.toFixed(1),
    failurePolicyShare: r.failurePolicy === undefined ? undefined : `${(r.failurePolicy.share * 100).toFixed(3)} %`,
    allowed: r.allowed,
    denied: r.denied,
    unanswered: r.unanswered,
    ...extra,
  };
  console.log(JSON.stringify(summary));
  rows.push(`| ${name} | ${summary.decisionsPerS} | ${summary.p50Ms} | ${summary.p99Ms} | ${summary.agentCpuUsPerAck ?? ""} | ${summary.valkeyCpuUsPerAck ?? ""} | ${summary.failurePolicyShare ?? ""} | ${Object.entries(extra).map(([k, v]) => `${k}=${v}`).join(" ")} |`);
};

// Loose enough that every scenario's traffic is allowed: throughput is about the Valkey path.
const OPEN_LIMIT = { intervalUs: 1, burstUs: 1_000_000 };
const closedLoad = ["--connections", "16", "--pipeline", "20", "--duration", DURATION, "--mode", "closed"];

const valkey = await startValkey();
const valkeyPid = Number(/process_id:(\d+)/.exec(await valkey.cli("INFO", "server"))?.[1]) || undefined;
try {
  console.log(JSON.stringify({ uptime: (await Bun.$`uptime`.text()).trim() }));
  if (ONLY === "all" || ONLY === "closed") {
    for (const keys of [1, 10_000, 1_000_000]) {
      for (const batch of [true, false]) {
        await valkey.cli("FLUSHALL");
        await withAgent(valkey, { ...OPEN_LIMIT, batch, deadlineMs: 100 }, async ({ agent, port, metrics }) => {
          const before = await valkey.cli("INFO", "commandstats");
          const r = await load(port, { agentPid: agent.pid, metrics }, [...closedLoad, "--keys", String(keys)]);
          const calls = (s: string) => Number(/cmdstat_evalsha:calls=(\d+)/.exec(s)?.[1] ?? 0);
          const scriptCalls = calls(await valkey.cli("INFO", "commandstats")) - calls(before);
          report(`closed keys=${keys} batch=${batch}`, r, { degraded: await degradedOf(metrics), requestsPerEvalsha: (r.acks / Math.max(1, scriptCalls)).toFixed(1) });
        });
      }
    }
  }
  if (ONLY === "all" || ONLY === "open") {
    const cases = [["valkey", valkey, 10, true], ["valkey", valkey, 100, true], ["valkey", valkey, 100, false], ["memory", undefined, 10, true]] as const;
    for (const [, server, deadlineMs, batch] of cases) {
      await valkey.cli("FLUSHALL");
      await withAgent(server, { ...OPEN_LIMIT, batch, deadlineMs }, async ({ agent, port, metrics }) => {
        const r = await load(port, { agentPid: agent.pid, metrics }, ["--connections", "16", "--pipeline", "200", "--duration", DURATION, "--mode", "open", "--rate", String(RATE), "--keys", "10000"]);
        const storeP = await storeQuantiles(metrics);
        const label = server === undefined ? "store=memory" : `store=valkey deadline=${deadlineMs}ms batch=${batch}`;
        report(`open ${RATE}/s keys=10000 ${label}`, r, { degraded: await degradedOf(metrics), ...storeP });
      });
    }
  }
  if (ONLY === "all" || ONLY === "hot") {
    // 100/s burst 20 (the seed default) and 10/s burst 20: each hot key gets 9% of --rate
    // (1800/s at 20k/s), far above either. Deadline 100 ms: on a contended 2-core box the default 10 ms hands many decisions
    // to the failure policy, and those never reach the deny cache.
    for (const intervalUs of [10_000, 100_000]) {
      await valkey.cli("FLUSHALL");
      await withAgent(valkey, { intervalUs, burstUs: 19 * intervalUs, batch: true, deadlineMs: 100 }, async ({ agent, port, metrics }) => {
        const open = ["--connections", "8", "--pipeline", "200", "--duration", DURATION, "--mode", "open"];
        const callsBefore = await scriptCalls(valkey);
        const [hot, cold] = await Promise.all([
          load(port, { agentPid: agent.pid, metrics }, [...open, "--rate", String(Math.round(RATE * 0.9)), "--keys", "10", "--seed", "1"]),
          load(port, { agentPid: agent.pid, metrics }, [...open, "--rate", String(Math.round(RATE * 0.1)), "--keys", "100000", "--seed", "7"]),
        ]);
        const hits = await metricSum(metrics, "spoa_deny_cache_hits_total");
        const total = await metricSum(metrics, "spoa_decisions_total");
        const denials = await metricSum(metrics, "spoa_decisions_total", { result: "deny" });
        report(`hot: 10 keys get 90% of ${RATE}/s, limit ${1_000_000 / intervalUs}/s`, hot, {
          denyCacheHits: hits,
          hitRateOfAll: (hits / total).toFixed(3),
          hitRateOfDenials: (hits / Math.max(1, denials)).toFixed(3),
          scriptCallsPerS: Math.round(((await scriptCalls(valkey)) - callsBefore) / (Number.parseFloat(DURATION) + 1)),
          degraded: await degradedOf(metrics),
        });
        report(`  (cold part: 100k keys, 10%)`, cold);
      });
    }
  }
  if (ONLY === "all" || ONLY === "valkey") {
    const sha = await valkey.cli("SCRIPT", "LOAD", GCRA_LUA);
    for (const keys of [1, 10_000, 1_000_000]) {
      await valkey.cli("FLUSHALL");
      const key = keys === 1 ? "rl:{one}:default:x" : "rl:{__rand_int__}:default:x";
      const cmd = ["valkey-benchmark", "-p", String(valkey.port), "-n", "200000", "-c", "50", "-P", "16", "-r", String(keys), "--csv", "EVALSHA", sha, "1", key, "1", "1", "1", "1000000", "1", "0"];
      const out = (await Bun.$`${cmd}`.quiet().text()).trim();
      const rps = Number(out.split("\n").at(-1)?.split(",")[1]?.replaceAll('"', ""));
      console.log(JSON.stringify({ scenario: `valkey-benchmark EVALSHA keys=${keys}`, requestsPerS: Math.round(rps) }));
      rows.push(`| valkey-benchmark EVALSHA keys=${keys} (-c 50 -P 16) | ${Math.round(rps)} | | | | | | |`);
    }
  }
  console.log(`\n| scenario | decisions/s | p50 ms | p99 ms | agent CPU µs/decision | Valkey CPU µs/decision | failure policy | notes |\n|---|---|---|---|---|---|---|---|\n${rows.join("\n")}`);
} finally {
  await valkey.stop();
  rmSync(valkey.dir, { recursive: true, force: true });
}

/** EVALSHA + EVAL calls Valkey has served so far. */
async function scriptCalls(server: ValkeyProcess): Promise<number> {
  const stats = await server.cli("INFO", "commandstats");
  const calls = (cmd: string) => Number(new RegExp(`cmdstat_${cmd}:calls=(\\d+)`).exec(stats)?.[1] ?? 0);
  return calls("evalsha") + calls("eval");
}

/** p50/p99 of spoa_store_duration_seconds (Valkey round trips as the agent saw them), bucket bounds. */
async function storeQuantiles(metrics: string): Promise<Record<string, string>> {
  const text = await (await fetch(`http://${metrics}/metrics`)).text();
  const buckets = [...text.matchAll(/^spoa_store_duration_seconds_bucket\{le="([^"]+)"\} (\S+)$/gm)].map((m) => [Number(m[1]), Number(m[2])] as const);
  const count = buckets.at(-1)?.[1] ?? 0;
  if (count === 0) return {};
  const q = (p: number) => buckets.find(([, c]) => c >= p * count)?.[0];
  return { storeP50LeMs: String((q(0.5) ?? NaN) * 1000), storeP99LeMs: String((q(0.99) ?? NaN) * 1000) };
}
