/**
 * Runs every benchmark of docs/performance.md in sequence and prints a Markdown summary with
 * the issue-6 targets checked; the raw JSON goes to --out (default bench-results.json).
 *   bun run bench/suite.ts [--quick] [--out FILE] [--skip codec,startup,load,rss,e2e]
 * --quick shortens every run (for a smoke test); real figures use the defaults (≥ 10 s runs).
 * @module
 */
import { readFileSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { BUN, DENO, freePort, ROOT, runToEnd, start, stopAll, waitForPort } from "./lib/processes.ts";

const argv = process.argv.slice(2);
const quick = argv.includes("--quick");
const outAt = argv.indexOf("--out");
const out = outAt >= 0 ? argv[outAt + 1] : "bench-results.json";
const skipAt = argv.indexOf("--skip");
const skip = new Set(skipAt >= 0 ? argv[skipAt + 1].split(",") : []);
const seconds = quick ? 3 : 10;
const runtimes = ["binary", "bun", "deno"] as const;
type Runtime = (typeof runtimes)[number];

function agentCommand(runtime: Runtime | "inprocess", port: number): string[] {
  const serve = ["serve", "--listen", `127.0.0.1:${port}`];
  if (runtime === "binary") return [`${ROOT}dist/spoa-gcra`, ...serve];
  if (runtime === "bun") return [BUN, "run", "src/cli/main.ts", ...serve];
  if (runtime === "deno") return [DENO, "run", "--allow-net", "--allow-read", "--allow-env", "--allow-sys", "--allow-run", "--unstable-net", "src/cli/main.ts", ...serve];
  return [BUN, "run", "bench/load/inprocess-agent.ts", "--port", String(port)];
}

async function json(cmd: string[], timeoutMs: number): Promise<Record<string, unknown>> {
  const r = await runToEnd(cmd, timeoutMs);
  const line = r.stdout.trim().split("\n").filter((l) => l.startsWith("{")).pop();
  if (line === undefined) throw new Error(`${cmd.join(" ")} gave no JSON (exit ${r.code}):\n${r.stderr}${r.stdout}`);
  return JSON.parse(line) as Record<string, unknown>;
}

/** Runs the load generator against a fresh agent; `intervalUs` sets the default limit's T. */
async function load(runtime: Runtime | "inprocess", args: string[], intervalUs = 1): Promise<Record<string, unknown>> {
  const port = freePort();
  const agent = start(`agent-${runtime}`, agentCommand(runtime, port), {
    METRICS_ADDR: "off",
    SPOA_RATE_INTERVAL: String(intervalUs),
    SPOA_RATE_BURST: "1000000000",
    LOG_LEVEL: "warn",
  });
  try {
    if (!(await waitForPort(port, 15_000))) throw new Error(`agent ${runtime} did not start:\n${agent.output()}`);
    await Bun.sleep(300);
    const cmd = [BUN, "run", "bench/load/main.ts", "--target", `127.0.0.1:${port}`, "--agent-pid", String(agent.pid), "--json", ...args];
    return { command: `bun run bench/load/main.ts --target 127.0.0.1:PORT --agent-pid PID --json ${args.join(" ")}`, ...(await json(cmd, 120_000)) };
  } finally {
    await agent.stop();
  }
}

function machine(): Record<string, unknown> {
  const model = /model name\s*:\s*(.*)/.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1] ?? "?";
  return {
    date: new Date().toISOString(),
    nproc: cpus().length,
    cpu: model,
    loadAverage: readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" "),
  };
}

const results: Record<string, unknown> = { machine: machine() };
const versions = await Promise.all([
  runToEnd([BUN, "--version"], 10_000),
  runToEnd([DENO, "--version"], 10_000),
  runToEnd(["/usr/sbin/haproxy", "-v"], 10_000),
  runToEnd([`${ROOT}dist/spoa-gcra`, "--version"], 10_000).catch(() => ({ stdout: "missing" })),
]);
results.versions = {
  bun: versions[0].stdout.trim(),
  deno: versions[1].stdout.split("\n")[0].trim(),
  haproxy: versions[2].stdout.split("\n")[0].trim(),
  binary: versions[3].stdout.trim(),
};

try {
  if (!skip.has("codec")) {
    results.codec = {
      bun: await json([BUN, "run", "bench/codec/main.ts", "--json"], 600_000),
      deno: await json([DENO, "run", "-A", "bench/codec/main.ts", "--json"], 600_000),
    };
  }
  if (!skip.has("startup")) {
    const runs = quick ? "5" : "20";
    const s: Record<string, unknown> = {};
    for (const rt of runtimes) s[rt] = await json([BUN, "run", "bench/startup.ts", "--runtime", rt, "--runs", runs, "--json"], 300_000);
    results.startup = s;
  }
  if (!skip.has("load")) {
    const closed: Record<string, unknown> = {};
    const open: Record<string, unknown> = {};
    for (const rt of [...runtimes, "inprocess"] as const) {
      closed[rt] = await load(rt, ["--connections", "16", "--pipeline", "20", "--duration", `${seconds}s`, "--mode", "closed"]);
    }
    for (const rt of [...runtimes, "inprocess"] as const) {
      open[rt] = await load(rt, ["--connections", "16", "--pipeline", "20", "--duration", `${seconds}s`, "--mode", "open", "--rate", "50000"]);
    }
    results.closedLoop = closed;
    results.openLoop = open;
  }
  if (!skip.has("rss")) {
    // T = 60 s keeps every key alive for the whole run, so the store really holds ~1M keys.
    results.rss1M = await load("binary", ["--keys", "1000000", "--duration", `${quick ? 5 : 20}s`, "--mode", "closed"], 60_000_000);
  }
  if (!skip.has("e2e")) {
    const e: Record<string, unknown> = {};
    for (const rt of runtimes) {
      e[rt] = await json([BUN, "run", "bench/e2e/main.ts", "--runtime", rt, "--duration", `${seconds}s`, "--rounds", quick ? "1" : "2", "--json"], 300_000);
    }
    results.e2e = e;
  }
} finally {
  await stopAll();
}
results.machineAfter = machine();
writeFileSync(out, JSON.stringify(results, null, 2) + "\n");

// Summary.
type J = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const r = results as J;
const lines: string[] = [];
const yes = (ok: boolean) => (ok ? "met" : "NOT met");
lines.push(`Machine: ${r.machine.nproc} cores, ${r.machine.cpu}, load ${r.machine.loadAverage} → ${r.machineAfter.loadAverage}; ${r.machine.date}`);
lines.push(`Versions: bun ${r.versions.bun}, ${r.versions.deno}, ${r.versions.haproxy}`);
if (r.e2e) {
  lines.push("", "| e2e (HAProxy 2.6, wrk) | without agent req/s | with agent req/s | ratio | p99 with agent | steal |", "|---|---|---|---|---|---|");
  for (const rt of runtimes) {
    const e = { ...r.e2e[rt].rows[0], stealShare: r.e2e[rt].stealShare };
    lines.push(`| ${rt} | ${Math.round(e.withoutAgent.requestsPerSecond)} | ${Math.round(e.withAgent.requestsPerSecond)} | ${(e.ratio * 100).toFixed(1)} % (${yes(e.ratio >= 0.45)}) | ${e.withAgent.latencyMs.p99} ms | ${((e.stealShare ?? 0) * 100).toFixed(0)} % |`);
  }
}
if (r.closedLoop) {
  lines.push("", "| load | closed ACK/s (16×20) | agent µs CPU/ACK | open 50k/s p99 | p99.9 | steal |", "|---|---|---|---|---|---|");
  for (const rt of [...runtimes, "inprocess"]) {
    const c = r.closedLoop[rt];
    const o = r.openLoop[rt];
    lines.push(
      `| ${rt} | ${Math.round(c.acksPerSecond)} (${yes(c.acksPerSecond >= 250_000)}) | ${c.agentCpuUsPerAck?.toFixed(2)} | ${(o.latencyUs.p99Us / 1000).toFixed(2)} ms (${yes(o.latencyUs.p99Us <= 1000)}) | ${(o.latencyUs.p999Us / 1000).toFixed(2)} ms (${yes(o.latencyUs.p999Us <= 5000)}) | ${((o.stealShare ?? 0) * 100).toFixed(0)} % |`,
    );
  }
}
if (r.codec) {
  for (const rt of ["bun", "deno"]) {
    const row = r.codec[rt].results.find((x: J) => x.name === "decode NOTIFY + encode ACK (2 set-vars)");
    const full = r.codec[rt].results.find((x: J) => x.name === "decode NOTIFY + encode ACK");
    lines.push(`codec ${rt}: decode+encode ${Math.round(row.opsPerSecond)}/s with 2 set-vars (${yes(row.opsPerSecond >= 2e6)}), ${Math.round(full.opsPerSecond)}/s with the full allow ACK`);
  }
}
if (r.startup) {
  for (const rt of runtimes) {
    const s = r.startup[rt];
    lines.push(`startup ${rt}: median ${s.acceptMedianMs.toFixed(1)} ms to accept${rt === "binary" ? ` (${yes(s.acceptMedianMs <= 100)})` : ""}, idle RSS ${s.idleRssMedianMiB?.toFixed(1)} MiB (${yes(s.idleRssMedianMiB <= 50)})`);
  }
}
if (r.rss1M) {
  const m = r.rss1M;
  lines.push(`RSS at 1M keys (binary): max ${(m.agentRss.maxKiB / 1024).toFixed(1)} MiB with ${m.distinctKeys} distinct keys (${yes(m.agentRss.maxKiB / 1024 <= 128)})`);
}
console.log(lines.join("\n"));
console.log(`\nraw results: ${out}`);
