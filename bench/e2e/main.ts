/**
 * End-to-end benchmark: one HAProxy (nbthread 1) with two identical frontends, one with the SPOE
 * filter and one without, answered by HAProxy itself; wrk against each. Besides req/s and
 * latency it reports what holds on a noisy machine: CPU time per request of HAProxy with and
 * without the agent, and of the agent (utime+stime of /proc/PID/stat around each wrk run), per
 * HAProxy version and per agent variant (e.g. the ACK's variable set). Everything started here is
 * stopped at the end (bounded run time).
 *   bun run bench/e2e/main.ts [--haproxy 2.6,3.0,3.2,3.4] [--runtime binary|bun|deno] [--agent PATH]
 *       [--store memory|valkey] [--variant "NAME=AGENT ARGS" …] [--duration 10s] [--connections 64]
 *       [--threads 1] [--rounds 1] [--warmup 2s] [--rules shipped|deny] [--response] [--json]
 * --rules: the frontends read the 429 rule and both RateLimit headers (shipped, default) or the
 * 429 rule alone (deny). --response: the SPOE config also has the response message (check-response,
 * sent only when the agent set txn.rl.ticket) and the backend answers x-tokens-used: 1; compare
 * policies with --variant "request=--config bench/e2e/policy-request.yaml"
 * --variant "response=--config bench/e2e/policy-response.yaml". With --store valkey the table
 * also gives Valkey's CPU µs per request (/proc of valkey-server around the with-agent runs).
 * Example, the ACK's variable sets on HAProxy 3.2:
 *   bun run bench/e2e/main.ts --haproxy 3.2 --variant "default=" --variant "ip_score=--variables ip_score"
 * @module
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sumSamples } from "../load/agent-metrics.ts";
import { parseDuration } from "../load/args.ts";
import { readCpuSeconds, readRssKiB, readStealTicks, readTreeCpuSeconds } from "../load/rss.ts";
import { BUN, type Child, DENO, freePort, ROOT, runToEnd, start, stopAll, waitForPort } from "../lib/processes.ts";
import { type BenchRules, haproxyConfig, spoeConfig } from "./haproxy-config.ts";
import { ALL_HAPROXY_VERSIONS, haproxyCommand, type HaproxyVersion, spopBackendMode } from "../../tests/helpers/haproxy.ts";
import { parseWrk, type WrkResult } from "./wrk.ts";

interface Variant {
  readonly name: string;
  readonly args: readonly string[];
}

interface E2eOptions {
  readonly versions: readonly HaproxyVersion[];
  readonly runtime: "binary" | "bun" | "deno";
  readonly binary: string;
  readonly store: "memory" | "valkey";
  readonly variants: readonly Variant[];
  readonly durationS: number;
  readonly warmupS: number;
  readonly connections: number;
  readonly threads: number;
  readonly rounds: number;
  readonly rules: BenchRules;
  readonly response: boolean;
  readonly json: boolean;
}

function parse(argv: readonly string[]): E2eOptions {
  const get = (name: string, fallback: string): string => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : fallback;
  };
  const runtime = get("runtime", "binary");
  const store = get("store", "memory");
  if (runtime !== "binary" && runtime !== "bun" && runtime !== "deno") throw new Error(`--runtime must be binary, bun or deno`);
  if (store !== "memory" && store !== "valkey") throw new Error(`--store must be memory or valkey`);
  const variants: Variant[] = [];
  argv.forEach((a, i) => {
    if (a !== "--variant" || argv[i + 1] === undefined) return;
    const text = argv[i + 1];
    const eq = text.indexOf("=");
    if (eq <= 0) throw new Error(`--variant must be NAME=AGENT ARGS, got "${text}"`);
    variants.push({ name: text.slice(0, eq), args: text.slice(eq + 1).split(" ").filter((s) => s.length > 0) });
  });
  return {
    versions: parseVersions(get("haproxy", "2.6")),
    runtime,
    binary: get("agent", `${ROOT}dist/spoa-gcra`),
    store,
    variants: variants.length > 0 ? variants : [{ name: "default", args: [] }],
    durationS: Math.max(1, Math.round(parseDuration(get("duration", "10s")) / 1000)),
    warmupS: Math.round(parseDuration(get("warmup", "2s")) / 1000),
    connections: Number(get("connections", "64")),
    threads: Number(get("threads", "1")),
    rounds: Math.max(1, Number(get("rounds", "1"))),
    rules: get("rules", "shipped") === "deny" ? "deny" : "shipped",
    response: argv.includes("--response"),
    json: argv.includes("--json"),
  };
}

/** "2.6,3.2" → the versions of the test matrix; throws on anything else. */
function parseVersions(text: string): HaproxyVersion[] {
  return text.split(",").map((v) => {
    const known = ALL_HAPROXY_VERSIONS.find((k) => k === v.trim());
    if (known === undefined) throw new Error(`unknown HAProxy version "${v}" (known: ${ALL_HAPROXY_VERSIONS.join(", ")})`);
    return known;
  });
}

function agentCommand(o: E2eOptions, listen: string, extra: readonly string[]): string[] {
  const args = ["serve", "--listen", listen, ...extra];
  if (o.runtime === "binary") return [o.binary, ...args];
  if (o.runtime === "bun") return [BUN, "run", "src/cli/main.ts", ...args];
  return [DENO, "run", "--allow-net", "--allow-read", "--allow-env", "--allow-sys", "--allow-run", "--unstable-net", "src/cli/main.ts", ...args];
}

/** One wrk run with the CPU time HAProxy (and the agent) spent during it. */
interface Measured {
  readonly wrk: WrkResult;
  readonly haproxyCpuS: number;
  readonly agentCpuS: number | undefined;
  readonly valkeyCpuS: number | undefined;
  /** Decisions the agent counted during the run (its /metrics). */
  readonly decisions: number | undefined;
}

async function decisionsOf(metrics: string | undefined): Promise<number | undefined> {
  if (metrics === undefined) return undefined;
  try {
    return sumSamples(await (await fetch(`http://${metrics}/metrics`, { signal: AbortSignal.timeout(2000) })).text(), "spoa_decisions_total");
  } catch {
    return undefined;
  }
}

async function wrk(port: number, o: E2eOptions, seconds: number, pids: { haproxy: number; agent?: number; metrics?: string; valkey?: number }): Promise<Measured> {
  const h0 = readTreeCpuSeconds(pids.haproxy) ?? 0;
  const a0 = pids.agent === undefined ? undefined : readCpuSeconds(pids.agent);
  const v0 = pids.valkey === undefined ? undefined : readCpuSeconds(pids.valkey);
  const d0 = await decisionsOf(pids.metrics);
  const r = await runToEnd(["wrk", `-t${o.threads}`, `-c${o.connections}`, `-d${seconds}s`, "--latency", `http://127.0.0.1:${port}/`], (seconds + 15) * 1000);
  const h1 = readTreeCpuSeconds(pids.haproxy) ?? 0;
  const a1 = pids.agent === undefined ? undefined : readCpuSeconds(pids.agent);
  const v1 = pids.valkey === undefined ? undefined : readCpuSeconds(pids.valkey);
  const d1 = await decisionsOf(pids.metrics);
  if (r.code !== 0) throw new Error(`wrk failed (${r.code}): ${r.stderr}${r.stdout}`);
  return {
    wrk: parseWrk(r.stdout),
    haproxyCpuS: h1 - h0,
    agentCpuS: a0 === undefined || a1 === undefined ? undefined : a1 - a0,
    valkeyCpuS: v0 === undefined || v1 === undefined ? undefined : v1 - v0,
    decisions: d0 === undefined || d1 === undefined ? undefined : d1 - d0,
  };
}

function loadAverage(): string {
  try {
    return readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
  } catch {
    return "?";
  }
}

/** The figures of one (version, variant) pair. */
interface Row {
  readonly haproxy: HaproxyVersion;
  readonly variant: string;
  readonly withoutAgent: WrkResult;
  readonly withAgent: WrkResult;
  readonly ratio: number;
  /** HAProxy CPU µs per request without and with the filter. */
  readonly haproxyCpuUs: { readonly without: number; readonly with: number };
  readonly agentCpuUs: number | undefined;
  readonly valkeyCpuUs: number | undefined;
  /** Agent decisions / requests answered in the with-agent runs (below 1: HAProxy gave up on the agent). */
  readonly decisionsPerRequest: number | undefined;
  readonly agentRssKiB: { readonly idle: number | undefined; readonly peak: number };
  readonly allRuns: { readonly withoutAgent: number[]; readonly withAgent: number[] };
}

const median = <T>(runs: readonly T[], key: (t: T) => number): T => [...runs].sort((a, b) => key(a) - key(b))[Math.floor(runs.length / 2)];
const perRequestUs = (runs: readonly Measured[], cpu: (m: Measured) => number) =>
  (runs.reduce((s, m) => s + cpu(m), 0) * 1e6) / Math.max(1, runs.reduce((s, m) => s + m.wrk.requests, 0));

async function measureVariant(o: E2eOptions, version: HaproxyVersion, variant: Variant, ports: { withAgent: number; withoutAgent: number; agent: number }, haproxy: Child, valkeyArgs: readonly string[], valkeyPid?: number): Promise<Row> {
  const metricsPort = freePort();
  const metrics = `127.0.0.1:${metricsPort}`;
  // A limit nobody reaches (1 µs interval, 1000 s burst): every request is allowed and does the full work.
  const agent = start("agent", agentCommand(o, `127.0.0.1:${ports.agent}`, [...valkeyArgs, "--metrics", metrics, ...variant.args]), {
    SPOA_RATE_INTERVAL: "1",
    SPOA_RATE_BURST: "1000000000",
    LOG_LEVEL: "warn",
  });
  try {
    if (!(await waitForPort(ports.agent, 15_000)) || !(await waitForPort(metricsPort, 5_000))) throw new Error(`agent did not start:\n${agent.output()}`);
    // Proof the agent answers through HAProxy (whatever variables it sets): its decision count moves.
    const before = (await decisionsOf(metrics)) ?? 0;
    for (let i = 0; i < 50 && ((await decisionsOf(metrics)) ?? 0) === before; i++) {
      await (await fetch(`http://127.0.0.1:${ports.withAgent}/`)).text();
      await Bun.sleep(20);
    }
    if (((await decisionsOf(metrics)) ?? 0) === before) throw new Error(`HAProxy ${version} never reached the agent:\n${haproxy.output()}\n${agent.output()}`);
    const idle = readRssKiB(agent.pid);
    const pids = { haproxy: haproxy.pid, agent: agent.pid, metrics, ...(valkeyPid === undefined ? {} : { valkey: valkeyPid }) };
    if (o.warmupS > 0) await wrk(ports.withAgent, o, o.warmupS, pids);
    let peak = 0;
    const rssTimer = setInterval(() => (peak = Math.max(peak, readRssKiB(agent.pid) ?? 0)), 250);
    const plain: Measured[] = [];
    const filtered: Measured[] = [];
    for (let round = 0; round < o.rounds; round++) {
      plain.push(await wrk(ports.withoutAgent, o, o.durationS, { haproxy: haproxy.pid }));
      filtered.push(await wrk(ports.withAgent, o, o.durationS, pids));
    }
    clearInterval(rssTimer);
    const p = median(plain, (m) => m.wrk.requestsPerSecond).wrk;
    const a = median(filtered, (m) => m.wrk.requestsPerSecond).wrk;
    const decisions = filtered.every((m) => m.decisions !== undefined) ? filtered.reduce((s, m) => s + (m.decisions ?? 0), 0) : undefined;
    return {
      haproxy: version,
      variant: variant.name,
      withoutAgent: p,
      withAgent: a,
      ratio: a.requestsPerSecond / p.requestsPerSecond,
      haproxyCpuUs: { without: perRequestUs(plain, (m) => m.haproxyCpuS), with: perRequestUs(filtered, (m) => m.haproxyCpuS) },
      agentCpuUs: filtered.every((m) => m.agentCpuS !== undefined) ? perRequestUs(filtered, (m) => m.agentCpuS ?? 0) : undefined,
      valkeyCpuUs: filtered.every((m) => m.valkeyCpuS !== undefined) ? perRequestUs(filtered, (m) => m.valkeyCpuS ?? 0) : undefined,
      decisionsPerRequest: decisions === undefined ? undefined : decisions / Math.max(1, filtered.reduce((s, m) => s + m.wrk.requests, 0)),
      agentRssKiB: { idle, peak },
      allRuns: { withoutAgent: plain.map((m) => m.wrk.requestsPerSecond), withAgent: filtered.map((m) => m.wrk.requestsPerSecond) },
    };
  } finally {
    await agent.stop();
  }
}

async function measureVersion(o: E2eOptions, version: HaproxyVersion, valkeyArgs: readonly string[], valkeyPid?: number): Promise<Row[]> {
  const ports = { withAgent: freePort(), withoutAgent: freePort(), agent: freePort(), ...(o.response ? { origin: freePort() } : {}) };
  const dir = mkdtempSync(join(tmpdir(), "spoa-bench-e2e-"));
  try {
    const spoePath = join(dir, "spoe.conf");
    const cfgPath = join(dir, "haproxy.cfg");
    writeFileSync(spoePath, spoeConfig(o.response));
    writeFileSync(cfgPath, haproxyConfig(ports, spoePath, o.rules, spopBackendMode(version), o.response));
    // Our own spawn rather than startHaproxy(): the PID must be HAProxy's for /proc/PID/stat, and
    // the bench adds no stats socket to the measured process.
    const haproxy = start(`haproxy-${version}`, [haproxyCommand(version), "-db", "-f", cfgPath]);
    try {
      if (!(await waitForPort(ports.withAgent, 5000)) || !(await waitForPort(ports.withoutAgent, 5000))) {
        throw new Error(`haproxy ${version} did not start:\n${haproxy.output()}`);
      }
      const rows: Row[] = [];
      for (const variant of o.variants) rows.push(await measureVariant(o, version, variant, ports, haproxy, valkeyArgs, valkeyPid));
      return rows;
    } finally {
      await haproxy.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function printRows(o: E2eOptions, rows: readonly Row[], header: string): void {
  const f = (n: number | undefined, d = 1) => (n === undefined ? "—" : n.toFixed(d));
  console.log(header);
  console.log("| HAProxy | agent variant | req/s without | req/s with | ratio | p50 / p99 with (ms) | HAProxy CPU µs/req without → with | agent CPU µs/req | Valkey CPU µs/req | decisions/req |");
  console.log("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
  for (const r of rows) {
    console.log(
      `| ${r.haproxy} | ${r.variant} | ${Math.round(r.withoutAgent.requestsPerSecond).toLocaleString("en-US")} | ${Math.round(r.withAgent.requestsPerSecond).toLocaleString("en-US")} | ${(r.ratio * 100).toFixed(1)} % | ${r.withAgent.latencyMs.p50.toFixed(2)} / ${r.withAgent.latencyMs.p99.toFixed(2)} | ${f(r.haproxyCpuUs.without, 2)} → ${f(r.haproxyCpuUs.with, 2)} | ${f(r.agentCpuUs, 2)} | ${f(r.valkeyCpuUs, 2)} | ${f(r.decisionsPerRequest, 3)} |`,
    );
  }
  void o;
}

async function main(): Promise<number> {
  const o = parse(process.argv.slice(2));
  if (o.runtime === "binary" && !existsSync(o.binary)) throw new Error(`${o.binary} is missing: build it with  npm run compile`);
  let valkey: Child | undefined;
  const valkeyArgs: string[] = [];
  if (o.store === "valkey") {
    const vport = freePort();
    valkey = start("valkey", ["valkey-server", "--port", String(vport), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]);
    if (!(await waitForPort(vport, 5000))) throw new Error(`valkey did not start:\n${valkey.output()}`);
    valkeyArgs.push("--valkey-url", `redis://127.0.0.1:${vport}`);
  }
  const load0 = loadAverage();
  const steal0 = readStealTicks();
  const rows: Row[] = [];
  for (const version of o.versions) rows.push(...(await measureVersion(o, version, valkeyArgs, valkey?.pid)));
  const steal1 = readStealTicks();
  await valkey?.stop();
  const stealShare = steal0 === undefined || steal1 === undefined || steal1.total === steal0.total ? undefined : (steal1.steal - steal0.steal) / (steal1.total - steal0.total);
  const wrkCmd = `wrk -t${o.threads} -c${o.connections} -d${o.durationS}s --latency`;
  if (o.json) {
    console.log(JSON.stringify({ runtime: o.runtime, store: o.store, wrk: wrkCmd, rounds: o.rounds, loadAverage: [load0, loadAverage()], stealShare, rows }));
  } else {
    printRows(o, rows, `nbthread 1, rules: ${o.rules}, agent: ${o.runtime} (${o.store} store), ${wrkCmd}, ${o.rounds} round(s), load ${load0} → ${loadAverage()}${stealShare === undefined ? "" : `, steal ${(stealShare * 100).toFixed(1)} %`}`);
  }
  return 0;
}

try {
  process.exitCode = await main();
} catch (error) {
  process.stderr.write(`e2e: ${(error as Error).message}\n`);
  process.exitCode = 1;
} finally {
  await stopAll();
}
