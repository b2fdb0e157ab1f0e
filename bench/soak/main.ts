/**
 * Soak benchmark (not in CI): HAProxy 2.6 with the SPOE filter in front of the agent, driven at
 * a fixed request rate for a long time (default 1 hour) with key churn: most requests come from
 * a window of client addresses (X-Forwarded-For, trusted from 127.0.0.1) that slides forward
 * every second, so new keys keep arriving and old ones expire; a few hot clients get denied.
 * Every 10 s the agent's RSS (/proc), JS heap, event-loop lag, key count, evictions and
 * decisions are appended as one JSON line to the output file; the end prints whether RSS, heap
 * and lag stayed flat (least-squares slope over the second half).
 * With `--valkey 8|9` the agent decides over Valkey behind three sentinels (valkey-sentinels.ts):
 * a third of the way in the sentinels fail the primary over, two thirds in the primary is killed
 * and restarted empty (no persistence); samples then also hold the agent's open fds, Valkey's
 * used memory and keys, and the degraded decisions; events are lines of their own, and a PNG
 * plot of the run is written next to the output file (plot.ts).
 *   bun run bench/soak/main.ts [--duration 1h] [--rate 500] [--window 20000] [--churn 50]
 *       [--interval 10s] [--runtime binary|bun|deno] [--valkey 8|9] [--binary FILE] [--out FILE]
 * @module
 */
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { haproxyConfig, spoeConfig } from "../e2e/haproxy-config.ts";
import { sumSamples } from "../load/agent-metrics.ts";
import { parseDuration } from "../load/args.ts";
import { readCpuSeconds, readRssKiB } from "../load/rss.ts";
import { BUN, DENO, freePort, ROOT, start, stopAll, waitForPort } from "../lib/processes.ts";
import { startSentinelTrio, type SentinelTrio } from "../../tests/helpers/valkey-sentinels.ts";
import type { ValkeyVersion } from "../../tests/helpers/valkey.ts";
import { soakPlot } from "./plot.ts";
import { summarise, type SoakSample } from "./summary.ts";

interface SoakOptions {
  readonly durationS: number;
  readonly rate: number;
  readonly window: number;
  readonly churn: number;
  readonly intervalS: number;
  readonly runtime: "binary" | "bun" | "deno";
  readonly valkey?: ValkeyVersion;
  /** The compiled agent to run (default dist/spoa-gcra; a copy keeps a rebuild from touching a running soak). */
  readonly binary: string;
  readonly out: string;
}

/** "1h", "5m", "10s" → seconds (the shared parser knows ms, s and m). */
function seconds(text: string): number {
  const hours = /^(\d+(?:\.\d+)?)h$/.exec(text.trim());
  return hours === null ? parseDuration(text) / 1000 : Number(hours[1]) * 3600;
}

function parse(argv: readonly string[]): SoakOptions {
  const get = (name: string, fallback: string): string => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : fallback;
  };
  const runtime = get("runtime", "binary");
  if (runtime !== "binary" && runtime !== "bun" && runtime !== "deno") throw new Error(`--runtime: binary, bun or deno, got ${runtime}`);
  const valkey = get("valkey", "");
  if (valkey !== "" && valkey !== "8" && valkey !== "9") throw new Error(`--valkey: 8 or 9, got ${valkey}`);
  return {
    durationS: seconds(get("duration", "1h")),
    rate: Number(get("rate", "500")),
    window: Number(get("window", "20000")),
    churn: Number(get("churn", "50")),
    intervalS: seconds(get("interval", "10s")),
    runtime,
    ...(valkey === "" ? {} : { valkey }),
    binary: get("binary", `${ROOT}dist/spoa-gcra`),
    out: get("out", join(tmpdir(), `spoa-soak-${Date.now()}.jsonl`)),
  };
}

/** Per-client policy: 1 request a minute, bursts of 20 — window clients stay allowed (and their keys live for minutes), hot ones are denied. */
const POLICY = "limits:\n  - name: per-client\n    rate: 1/m\n    burst: 20\n    key: [identity]\n";

function agentCommand(o: SoakOptions, args: string[]): string[] {
  const runtime = o.runtime;
  if (runtime === "binary") return [o.binary, ...args];
  if (runtime === "bun") return [BUN, "run", `${ROOT}src/cli/main.ts`, ...args];
  return [DENO, "run", "-A", `${ROOT}src/cli/main.ts`, ...args];
}

/** The n-th client address: 10.x.y.z from a 24-bit counter. */
function clientAddress(n: number): string {
  return `10.${(n >>> 16) & 0xff}.${(n >>> 8) & 0xff}.${n & 0xff}`;
}

async function main(): Promise<void> {
  const o = parse(process.argv.slice(2));
  const dir = mkdtempSync(join(tmpdir(), "spoa-soak-"));
  const ports = { withAgent: freePort(), withoutAgent: freePort(), agent: freePort() };
  const metricsPort = freePort();
  writeFileSync(join(dir, "policy.yaml"), POLICY);
  writeFileSync(join(dir, "spoe.conf"), spoeConfig());
  writeFileSync(join(dir, "haproxy.cfg"), haproxyConfig(ports, join(dir, "spoe.conf")));
  writeFileSync(o.out, "");
  const trio = o.valkey === undefined ? undefined : await startSentinelTrio(o.valkey);
  const agent = start("agent", agentCommand(o, [
    "serve", "--listen", `127.0.0.1:${ports.agent}`, "--metrics", `127.0.0.1:${metricsPort}`,
    "--config", join(dir, "policy.yaml"), "--trusted-proxies", "127.0.0.1/32", "--log-level", "warn",
  ]), trio === undefined ? {} : { VALKEY_SENTINELS: trio.sentinelList, VALKEY_MASTER_NAME: trio.masterName });
  const events = trio === undefined ? [] : valkeyEvents(trio, o.durationS);
  const haproxy = start("haproxy", ["haproxy", "-f", join(dir, "haproxy.cfg")]);
  try {
    if (!(await waitForPort(ports.agent, 10_000)) || !(await waitForPort(ports.withAgent, 10_000))) {
      throw new Error(`start failed:\n${agent.output()}\n${haproxy.output()}`);
    }
    await Bun.sleep(1_000); // HAProxy's first SPOE connections
    const counts = { sent: 0, ok: 0, denied: 0, errors: 0, lateTicks: 0 };
    const url = `http://127.0.0.1:${ports.withAgent}/`;
    const send = (n: number) => {
      counts.sent++;
      fetch(url, { headers: { "x-forwarded-for": clientAddress(n) } })
        .then(async (response) => {
          await response.arrayBuffer();
          if (response.status === 200) counts.ok++;
          else if (response.status === 429) counts.denied++;
          else counts.errors++;
        })
        .catch(() => counts.errors++);
    };
    const t0 = performance.now();
    const endAt = t0 + o.durationS * 1000;
    const samples: SoakSample[] = [];
    let nextSample = t0;
    let due = 0;
    let last = t0;
    const tickMs = 10;
    console.error(`soak: ${o.durationS} s at ${o.rate} req/s, window ${o.window} clients sliding ${o.churn}/s, samples every ${o.intervalS} s → ${o.out}`);
    while (performance.now() < endAt) {
      const now = performance.now();
      // Fixed rate: owe rate × elapsed requests; a late tick sends what it owes (counted).
      due += (o.rate * (now - last)) / 1000;
      if (now - last > 3 * tickMs) counts.lateTicks++;
      last = now;
      const second = Math.floor((now - t0) / 1000);
      const base = second * o.churn;
      while (due >= 1) {
        due--;
        // 5 % of requests from 5 hot clients (denied), the rest spread over the sliding window.
        send(Math.random() < 0.05 ? 0xfffff0 + Math.floor(Math.random() * 5) : base + Math.floor(Math.random() * o.window));
      }
      while (events.length > 0 && now - t0 >= events[0].atS * 1000) {
        const event = events.shift() as SoakEvent;
        const atS = Math.round((now - t0) / 1000);
        // Not awaited: the load keeps its rate while Valkey changes.
        void event.run().then(
          (detail) => appendFileSync(o.out, `${JSON.stringify({ event: event.name, atS, ...detail })}\n`),
          (error: Error) => appendFileSync(o.out, `${JSON.stringify({ event: `${event.name} failed`, atS, error: error.message })}\n`),
        );
      }
      if (now >= nextSample) {
        nextSample += o.intervalS * 1000;
        const sample = await takeSample(agent.pid, metricsPort, (now - t0) / 1000, counts, trio);
        samples.push(sample);
        appendFileSync(o.out, `${JSON.stringify(sample)}\n`);
      }
      await Bun.sleep(tickMs);
    }
    await Bun.sleep(1_000);
    const summary = summarise(samples);
    const png = o.out.replace(/\.jsonl$/, "") + ".png";
    if (trio !== undefined) writeFileSync(png, soakPlot(readFileSync(o.out, "utf8").split("\n").filter((l) => l !== "").map((l) => JSON.parse(l))));
    const result = { runtime: o.runtime, valkey: o.valkey ?? "none", durationS: o.durationS, rate: o.rate, window: o.window, churn: o.churn, samples: samples.length, out: o.out, ...(trio ? { png } : {}), ...summary, counts };
    console.log(JSON.stringify(result, null, 2));
  } finally {
    await stopAll();
    await trio?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A change to Valkey in the middle of the run. */
interface SoakEvent {
  readonly name: string;
  readonly atS: number;
  run(): Promise<Record<string, number>>;
}

/** A sentinel failover at a third of the run, a kill and empty restart of the primary at two thirds. */
function valkeyEvents(trio: SentinelTrio, durationS: number): SoakEvent[] {
  return [
    {
      name: "failover",
      atS: durationS / 3,
      run: async () => {
        const old = await trio.primary();
        const t = performance.now();
        await trio.sentinels[0].cli("SENTINEL", "FAILOVER", trio.masterName);
        const promoted = await trio.waitForNewPrimary(old);
        return { promotedPort: promoted.port, promotedAfterMs: Math.round(performance.now() - t) };
      },
    },
    {
      name: "restart",
      atS: (2 * durationS) / 3,
      run: async () => {
        const primary = await trio.primary();
        const t = performance.now();
        await primary.stop("SIGKILL");
        await primary.restart();
        return { port: primary.port, downMs: Math.round(performance.now() - t) };
      },
    },
  ];
}

/** Open file descriptors of `pid` (sockets to HAProxy and Valkey included). */
function fdCount(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return Number.NaN; // the process exited
  }
}

/** used_memory and DBSIZE of the current primary; NaN while it cannot answer. */
async function valkeyMemory(trio: SentinelTrio): Promise<{ valkeyUsedBytes: number; valkeyKeys: number }> {
  try {
    const primary = await trio.primary();
    const info = await primary.cli("INFO", "memory");
    return { valkeyUsedBytes: Number(/used_memory:(\d+)/.exec(info)?.[1] ?? Number.NaN), valkeyKeys: Number(await primary.cli("DBSIZE")) };
  } catch {
    return { valkeyUsedBytes: Number.NaN, valkeyKeys: Number.NaN };
  }
}

async function takeSample(pid: number, metricsPort: number, atS: number, counts: Readonly<Record<string, number>>, trio?: SentinelTrio): Promise<SoakSample> {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  return {
    fds: fdCount(pid),
    degraded: sumSamples(text, "spoa_degraded_decisions_total"),
    ...(trio === undefined ? {} : await valkeyMemory(trio)),
    atS: Math.round(atS),
    rssKiB: readRssKiB(pid) ?? 0,
    cpuS: readCpuSeconds(pid) ?? 0,
    heapBytes: sumSamples(text, "spoa_process_heap_bytes"),
    lagMs: sumSamples(text, "spoa_event_loop_lag_seconds") * 1000,
    keys: sumSamples(text, "spoa_memory_store_keys"),
    evictions: sumSamples(text, "spoa_memory_store_evictions_total"),
    decisions: sumSamples(text, "spoa_decisions_total"),
    ...counts,
  };
}

await main();
