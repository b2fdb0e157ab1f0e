/**
 * End-to-end benchmark: one HAProxy 2.6 (nbthread 1) with two identical frontends, one with the
 * SPOE filter and one without, answered by HAProxy itself; wrk against each; the ratio is what
 * the agent costs. Everything started here is stopped at the end (bounded run time).
 *   bun run bench/e2e/main.ts [--runtime binary|bun|deno] [--store memory|valkey] [--duration 10s]
 *       [--connections 64] [--threads 1] [--rounds 1] [--warmup 2s] [--json]
 * @module
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseDuration } from "../load/args.ts";
import { readRssKiB, readStealTicks } from "../load/rss.ts";
import { BUN, type Child, DENO, freePort, ROOT, runToEnd, start, stopAll, waitForPort } from "../lib/processes.ts";
import { haproxyConfig, spoeConfig } from "./haproxy-config.ts";
import { parseWrk, type WrkResult } from "./wrk.ts";

const HAPROXY = "/usr/sbin/haproxy";
const BINARY = `${ROOT}dist/spoa-gcra`;

interface E2eOptions {
  readonly runtime: "binary" | "bun" | "deno";
  readonly store: "memory" | "valkey";
  readonly durationS: number;
  readonly warmupS: number;
  readonly connections: number;
  readonly threads: number;
  readonly rounds: number;
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
  return {
    runtime,
    store,
    durationS: Math.max(1, Math.round(parseDuration(get("duration", "10s")) / 1000)),
    warmupS: Math.round(parseDuration(get("warmup", "2s")) / 1000),
    connections: Number(get("connections", "64")),
    threads: Number(get("threads", "1")),
    rounds: Math.max(1, Number(get("rounds", "1"))),
    json: argv.includes("--json"),
  };
}

function agentCommand(runtime: E2eOptions["runtime"], listen: string, extra: readonly string[]): string[] {
  const args = ["serve", "--listen", listen, ...extra];
  if (runtime === "binary") return [BINARY, ...args];
  if (runtime === "bun") return [BUN, "run", "src/cli/main.ts", ...args];
  return [DENO, "run", "--allow-net", "--allow-read", "--allow-env", "--allow-sys", "--allow-run", "--unstable-net", "src/cli/main.ts", ...args];
}

async function wrk(port: number, o: E2eOptions, seconds: number): Promise<WrkResult> {
  const r = await runToEnd(["wrk", `-t${o.threads}`, `-c${o.connections}`, `-d${seconds}s`, "--latency", `http://127.0.0.1:${port}/`], (seconds + 15) * 1000);
  if (r.code !== 0) throw new Error(`wrk failed (${r.code}): ${r.stderr}${r.stdout}`);
  return parseWrk(r.stdout);
}

function loadAverage(): string {
  try {
    return readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
  } catch {
    return "?";
  }
}

async function main(): Promise<number> {
  const o = parse(process.argv.slice(2));
  if (o.runtime === "binary" && !existsSync(BINARY)) {
    throw new Error(`${BINARY} is missing: build it with  npm run compile`);
  }
  const ports = { withAgent: freePort(), withoutAgent: freePort(), agent: freePort() };
  const dir = mkdtempSync(join(tmpdir(), "spoa-bench-e2e-"));
  const spoePath = join(dir, "spoe.conf");
  const cfgPath = join(dir, "haproxy.cfg");
  writeFileSync(spoePath, spoeConfig());
  writeFileSync(cfgPath, haproxyConfig(ports, spoePath));

  let valkey: Child | undefined;
  const extra: string[] = [];
  if (o.store === "valkey") {
    const vport = freePort();
    valkey = start("valkey", ["valkey-server", "--port", String(vport), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]);
    if (!(await waitForPort(vport, 5000))) throw new Error(`valkey did not start:\n${valkey.output()}`);
    extra.push("--valkey-url", `redis://127.0.0.1:${vport}`);
  }
  // A limit nobody reaches (1 µs interval, 1000 s burst): every request is allowed and does the full work.
  const agent = start("agent", agentCommand(o.runtime, `127.0.0.1:${ports.agent}`, extra), {
    METRICS_ADDR: "off",
    SPOA_RATE_INTERVAL: "1",
    SPOA_RATE_BURST: "1000000000",
    LOG_LEVEL: "warn",
  });
  if (!(await waitForPort(ports.agent, 15_000))) throw new Error(`agent did not start:\n${agent.output()}`);
  const haproxy = start("haproxy", [HAPROXY, "-db", "-f", cfgPath]);
  if (!(await waitForPort(ports.withAgent, 5000)) || !(await waitForPort(ports.withoutAgent, 5000))) {
    throw new Error(`haproxy did not start:\n${haproxy.output()}`);
  }
  // Proof the agent answers: its RateLimit variable comes back as a header.
  const probe = await fetch(`http://127.0.0.1:${ports.withAgent}/`);
  const rateLimitHeader = probe.headers.get("ratelimit");
  await probe.text();
  if (rateLimitHeader === null) throw new Error(`the SPOE frontend answered without a RateLimit header: is the agent answering?\n${haproxy.output()}\n${agent.output()}`);

  const idleRssKiB = readRssKiB(agent.pid);
  if (o.warmupS > 0) await wrk(ports.withAgent, o, o.warmupS);
  const plain: WrkResult[] = [];
  const withAgent: WrkResult[] = [];
  let peakRssKiB = 0;
  const rssTimer = setInterval(() => {
    peakRssKiB = Math.max(peakRssKiB, readRssKiB(agent.pid) ?? 0);
  }, 250);
  const steal0 = readStealTicks();
  for (let round = 0; round < o.rounds; round++) {
    plain.push(await wrk(ports.withoutAgent, o, o.durationS));
    withAgent.push(await wrk(ports.withAgent, o, o.durationS));
  }
  clearInterval(rssTimer);
  const steal1 = readStealTicks();
  const stealShare = steal0 === undefined || steal1 === undefined || steal1.total === steal0.total ? undefined : (steal1.steal - steal0.steal) / (steal1.total - steal0.total);
  await haproxy.stop();
  await agent.stop();
  await valkey?.stop();

  const best = (runs: WrkResult[]) => runs.reduce((a, b) => (b.requestsPerSecond > a.requestsPerSecond ? b : a));
  const median = (runs: WrkResult[]) => [...runs].sort((a, b) => a.requestsPerSecond - b.requestsPerSecond)[Math.floor(runs.length / 2)];
  const p = median(plain);
  const a = median(withAgent);
  const result = {
    runtime: o.runtime,
    store: o.store,
    wrk: `wrk -t${o.threads} -c${o.connections} -d${o.durationS}s --latency`,
    rounds: o.rounds,
    loadAverage: loadAverage(),
    stealShare,
    rateLimitHeader,
    withoutAgent: p,
    withAgent: a,
    ratio: a.requestsPerSecond / p.requestsPerSecond,
    bestRatio: best(withAgent).requestsPerSecond / best(plain).requestsPerSecond,
    agentRssKiB: { idle: idleRssKiB, peak: peakRssKiB },
    allRuns: { withoutAgent: plain.map((r) => r.requestsPerSecond), withAgent: withAgent.map((r) => r.requestsPerSecond) },
  };
  if (o.json) {
    console.log(JSON.stringify(result));
  } else {
    const row = (name: string, r: WrkResult) =>
      `${name.padEnd(16)} ${Math.round(r.requestsPerSecond).toLocaleString("en-US").padStart(9)} req/s   p50 ${r.latencyMs.p50.toFixed(2)} ms  p99 ${r.latencyMs.p99.toFixed(2)} ms  max ${r.latencyMs.max.toFixed(1)} ms  non-2xx ${r.non2xx}  socket errors ${r.socketErrors}`;
    console.log(`HAProxy 2.6 nbthread 1, agent: ${o.runtime} (${o.store} store), ${result.wrk}, ${o.rounds} round(s), load ${result.loadAverage}`);
    console.log(row("without agent", p));
    console.log(row("with agent", a));
    console.log(`ratio            ${(result.ratio * 100).toFixed(1)} % of the requests/s without the filter`);
    if (stealShare !== undefined) console.log(`CPU steal        ${(stealShare * 100).toFixed(1)} % of the machine's CPU time went to other guests`);
    console.log(`agent RSS        idle ${((idleRssKiB ?? 0) / 1024).toFixed(1)} MiB, peak ${(peakRssKiB / 1024).toFixed(1)} MiB`);
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
