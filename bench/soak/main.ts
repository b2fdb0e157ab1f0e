/**
 * Soak benchmark (not in CI): HAProxy 2.6 with the SPOE filter in front of the agent, driven at
 * a fixed request rate for a long time (default 1 hour) with key churn: most requests come from
 * a window of client addresses (X-Forwarded-For, trusted from 127.0.0.1) that slides forward
 * every second, so new keys keep arriving and old ones expire; a few hot clients get denied.
 * Every 10 s the agent's RSS (/proc), JS heap, event-loop lag, key count, evictions and
 * decisions are appended as one JSON line to the output file; the end prints whether RSS, heap
 * and lag stayed flat (least-squares slope over the second half).
 *   bun run bench/soak/main.ts [--duration 1h] [--rate 500] [--window 20000] [--churn 50]
 *       [--interval 10s] [--runtime binary|bun|deno] [--out FILE]
 * @module
 */
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { haproxyConfig, spoeConfig } from "../e2e/haproxy-config.ts";
import { sumSamples } from "../load/agent-metrics.ts";
import { parseDuration } from "../load/args.ts";
import { readCpuSeconds, readRssKiB } from "../load/rss.ts";
import { BUN, DENO, freePort, ROOT, start, stopAll, waitForPort } from "../lib/processes.ts";
import { summarise, type SoakSample } from "./summary.ts";

interface SoakOptions {
  readonly durationS: number;
  readonly rate: number;
  readonly window: number;
  readonly churn: number;
  readonly intervalS: number;
  readonly runtime: "binary" | "bun" | "deno";
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
  return {
    durationS: seconds(get("duration", "1h")),
    rate: Number(get("rate", "500")),
    window: Number(get("window", "20000")),
    churn: Number(get("churn", "50")),
    intervalS: seconds(get("interval", "10s")),
    runtime,
    out: get("out", join(tmpdir(), `spoa-soak-${Date.now()}.jsonl`)),
  };
}

/** Per-client policy: 1 request a minute, bursts of 20 — window clients stay allowed (and their keys live for minutes), hot ones are denied. */
const POLICY = "limits:\n  - name: per-client\n    rate: 1/m\n    burst: 20\n    key: [identity]\n";

function agentCommand(runtime: SoakOptions["runtime"], args: string[]): string[] {
  if (runtime === "binary") return [`${ROOT}dist/spoa-gcra`, ...args];
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
  const agent = start("agent", agentCommand(o.runtime, [
    "serve", "--listen", `127.0.0.1:${ports.agent}`, "--metrics", `127.0.0.1:${metricsPort}`,
    "--config", join(dir, "policy.yaml"), "--trusted-proxies", "127.0.0.1/32", "--log-level", "warn",
  ]));
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
      if (now >= nextSample) {
        nextSample += o.intervalS * 1000;
        const sample = await takeSample(agent.pid, metricsPort, (now - t0) / 1000, counts);
        samples.push(sample);
        appendFileSync(o.out, `${JSON.stringify(sample)}\n`);
      }
      await Bun.sleep(tickMs);
    }
    await Bun.sleep(1_000);
    const summary = summarise(samples);
    const result = { runtime: o.runtime, durationS: o.durationS, rate: o.rate, window: o.window, churn: o.churn, samples: samples.length, out: o.out, ...summary, counts };
    console.log(JSON.stringify(result, null, 2));
  } finally {
    await stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function takeSample(pid: number, metricsPort: number, atS: number, counts: Readonly<Record<string, number>>): Promise<SoakSample> {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  return {
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
