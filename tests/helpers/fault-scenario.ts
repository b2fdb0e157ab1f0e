/**
 * Pieces shared by the network-fault e2e scenarios: the agent's default Valkey deadline (read
 * from its own help, so the scenarios follow the shipped default), a closed-loop NOTIFY load
 * that records every verdict's latency and whether the failure policy decided, percentiles, and
 * metric snapshots of the counters the scenarios judge by.
 * @module
 */
import { type AgentRuntime, agentCommand } from "./agent-process.ts";
import { portOf, scrape, sumOf } from "./prometheus.ts";
import type { SpopConnection } from "./spop-socket.ts";

/** The `--valkey-deadline` default the agent documents in `help serve`. */
export function defaultDeadlineMs(runtime: AgentRuntime = "binary"): number {
  const run = Bun.spawnSync(agentCommand(runtime, ["help", "serve"]), { stdout: "pipe", stderr: "pipe" });
  const text = run.stdout.toString();
  const match = /--valkey-deadline MS\n(?:.*\n)*?.*default (\d+)/.exec(text);
  if (match === null) throw new Error(`no --valkey-deadline default in the help:\n${text}`);
  return Number(match[1]);
}

/** One answered NOTIFY as the scenarios judge it. */
export interface Outcome {
  readonly key: number;
  readonly degraded: boolean;
  readonly allowed: boolean;
  /** Milliseconds from writing the NOTIFY to parsing its ACK. */
  readonly ms: number;
  /** performance.now() when the ACK arrived. */
  readonly at: number;
}

/** What a load run saw. */
export interface LoadResult {
  readonly outcomes: Outcome[];
  /** NOTIFYs that got no ACK in time (or whose connection died): must stay empty. */
  readonly errors: string[];
}

/** A running load; `stop()` stops issuing and waits for every outstanding NOTIFY. */
export interface RunningLoad {
  readonly result: LoadResult;
  stop(): Promise<LoadResult>;
}

/** How a load runs. */
export interface LoadOptions {
  /** NOTIFYs outstanding at most per socket (default 8). */
  readonly concurrency?: number;
  /** The client address of the `i`-th request. */
  readonly key: (i: number) => number;
  readonly maxRequests?: number;
  /**
   * Paces the requests to this many per second over all sockets (an open loop while the agent
   * keeps up). Without it the loop runs flat out, which on a small shared machine measures CPU
   * contention rather than the network fault under test.
   */
  readonly ratePerSecond?: number;
}

/**
 * Keeps up to `concurrency` NOTIFYs outstanding on each socket (like HAProxy's pipelining),
 * optionally paced, until stopped or `maxRequests` were sent.
 */
export function startLoad(sockets: readonly SpopConnection[], options: LoadOptions): RunningLoad {
  const concurrency = options.concurrency ?? 8;
  const max = options.maxRequests ?? 1_000_000;
  const result: LoadResult = { outcomes: [], errors: [] };
  const startedAt = performance.now();
  let running = true;
  let next = 0;
  const worker = async (socket: SpopConnection) => {
    while (running && next < max) {
      const i = next++;
      if (options.ratePerSecond !== undefined) {
        const wait = startedAt + (i * 1000) / options.ratePerSecond - performance.now();
        if (wait > 0) await Bun.sleep(wait);
        if (!running) return;
      }
      const key = options.key(i);
      try {
        const v = await socket.check(key);
        result.outcomes.push({ key, degraded: v.degraded, allowed: v.allowed, ms: v.receivedAt - v.sentAt, at: v.receivedAt });
      } catch (error) {
        result.errors.push((error as Error).message);
        // A dead connection fails at once: do not spin on it.
        await Bun.sleep(5);
      }
    }
  };
  const done = Promise.all(sockets.flatMap((s) => Array.from({ length: concurrency }, () => worker(s))));
  return {
    result,
    stop: async () => {
      running = false;
      await done;
      return result;
    },
  };
}

/** Runs the load for `ms` and returns what it saw. */
export async function loadFor(sockets: readonly SpopConnection[], ms: number, options: LoadOptions): Promise<LoadResult> {
  const load = startLoad(sockets, options);
  await Bun.sleep(ms);
  return await load.stop();
}

/** The `q` quantile (0..1) of `values` (nearest rank); NaN when empty. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

/**
 * The upper bound (seconds) of the histogram bucket holding the `q` quantile of `name` on the
 * agent at `metricsAddress`, counting only observations since `since` (bucket counts from an
 * earlier call); Infinity when it lies in +Inf, NaN with no observations.
 */
export async function histogramQuantile(metricsAddress: string, name: string, q: number, since?: ReadonlyMap<number, number>): Promise<{ bound: number; buckets: Map<number, number> }> {
  const families = await scrape(portOf(metricsAddress));
  const buckets = new Map<number, number>();
  for (const family of families.values()) {
    for (const sample of family.samples) {
      if (sample.name !== `${name}_bucket`) continue;
      const le = sample.labels.le === "+Inf" ? Infinity : Number(sample.labels.le);
      buckets.set(le, sample.value - (since?.get(le) ?? 0));
    }
  }
  const bounds = [...buckets.keys()].sort((a, b) => a - b);
  const total = buckets.get(Infinity) ?? 0;
  const bound = total === 0 ? Number.NaN : (bounds.find((le) => (buckets.get(le) ?? 0) >= q * total) ?? Infinity);
  return { bound, buckets };
}

/** The share of a histogram's observations (bucket counts by upper bound) at or below the first bucket ≥ `seconds`. */
export function within(buckets: ReadonlyMap<number, number>, seconds: number): number {
  const total = buckets.get(Infinity) ?? 0;
  const bound = [...buckets.keys()].sort((a, b) => a - b).find((le) => le >= seconds) ?? Infinity;
  return total === 0 ? 1 : (buckets.get(bound) ?? 0) / total;
}

/** The counters a fault scenario judges the agent by, read from its /metrics. */
export interface FaultMetrics {
  readonly decisions: number;
  readonly degraded: number;
  readonly degradedTimeout: number;
  readonly degradedError: number;
  readonly degradedBreakerOpen: number;
  readonly lateReplies: number;
  readonly storeErrors: number;
  readonly breakerState: number;
  readonly notifies: number;
  readonly acks: number;
  readonly handlerErrors: number;
}

/** Scrapes the agent at `metricsAddress` ("host:port"). */
export async function faultMetrics(metricsAddress: string): Promise<FaultMetrics> {
  const m = await scrape(portOf(metricsAddress));
  return {
    decisions: sumOf(m, "spoa_decisions_total"),
    degraded: sumOf(m, "spoa_degraded_decisions_total"),
    degradedTimeout: sumOf(m, "spoa_degraded_decisions_total", { reason: "timeout" }),
    degradedError: sumOf(m, "spoa_degraded_decisions_total", { reason: "error" }),
    degradedBreakerOpen: sumOf(m, "spoa_degraded_decisions_total", { reason: "breaker-open" }),
    lateReplies: sumOf(m, "spoa_store_late_replies_total"),
    storeErrors: sumOf(m, "spoa_store_errors_total"),
    breakerState: sumOf(m, "spoa_circuit_breaker_state"),
    notifies: sumOf(m, "spoa_frames_received_total", { type: "notify" }),
    acks: sumOf(m, "spoa_frames_sent_total", { type: "ack" }),
    handlerErrors: sumOf(m, "spoa_handler_errors_total"),
  };
}

/** `after − before` for every counter (gauges keep their `after` value). */
export function delta(before: FaultMetrics, after: FaultMetrics): FaultMetrics {
  const out: Record<string, number> = {};
  for (const key of Object.keys(after) as (keyof FaultMetrics)[]) out[key] = key === "breakerState" ? after[key] : after[key] - before[key];
  return out as unknown as FaultMetrics;
}

/** Polls the breaker gauge every `everyMs` until stopped; returns every distinct value seen, in order. */
export function watchBreaker(metricsAddress: string, everyMs = 100): { stop(): Promise<number[]> } {
  const seen: number[] = [];
  let running = true;
  const done = (async () => {
    while (running) {
      try {
        const state = (await faultMetrics(metricsAddress)).breakerState;
        if (seen.at(-1) !== state) seen.push(state);
      } catch {
        // a scrape racing the agent's shutdown
      }
      await Bun.sleep(everyMs);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await done;
      return seen;
    },
  };
}
