/**
 * Runs one load test: opens the connections, paces NOTIFYs (closed or open loop), records
 * latencies of the measured window, then disconnects cleanly. Bounded: connect (≤ 5 s) +
 * warm-up + duration + at most 2 s for the last answers + 1 s for the disconnects.
 * @module
 */
import type { LoadOptions } from "./args.ts";
import { type ConnectionEvents, type ConnectionShared, LoadConnection } from "./connection.ts";
import { AddressPool, notifyTemplate, Verdict } from "./frames.ts";
import { Histogram, type LatencySummary } from "./histogram.ts";
import { type DecisionCounts, failurePolicyShare, type FailurePolicyShare, scrapeDecisionCounts } from "./agent-metrics.ts";
import { readCpuSeconds, readStealTicks, RssSampler, USER_HZ, type RssSummary } from "./rss.ts";

const CONNECT_MS = 5_000;
const DRAIN_MS = 2_000;
const CLOSE_MS = 1_000;

/** The outcome of a run. */
export interface LoadResult {
  readonly options: Omit<LoadOptions, "json">;
  readonly measuredSeconds: number;
  readonly connectionsReady: number;
  /** Open loop: NOTIFYs scheduled in the measured window. Closed loop: ACKs + the window's unanswered. */
  readonly sent: number;
  readonly acks: number;
  readonly acksPerSecond: number;
  readonly allowed: number;
  readonly denied: number;
  /** ACKs without ip_score/allowed. */
  readonly noVerdict: number;
  /** NOTIFYs of the window without an ACK at the end of the drain (open loop: also those never sent). */
  readonly unanswered: number;
  readonly latencyUs: LatencySummary;
  /** Distinct keys sent during the whole run (warm-up included). */
  readonly distinctKeys: number;
  readonly errors: Readonly<Record<string, number>>;
  readonly firstErrors: readonly string[];
  /** DISCONNECT status codes received from the agent → count. */
  readonly disconnects: Readonly<Record<string, number>>;
  readonly agentRss?: RssSummary;
  /** CPU seconds used during the measured window by the agent (with --agent-pid) and by this generator. */
  readonly cpuSeconds: { readonly agent?: number; readonly store?: number; readonly generator: number };
  /** CPU seconds other processes used during the window (machine busy time − agent − generator): noise indicator. */
  readonly otherCpuSeconds?: number;
  /** Share of the machine's CPU time the hypervisor stole during the window (noise indicator). */
  readonly stealShare?: number;
  /** Agent CPU time per ACK in µs (with --agent-pid): the agent's cost, independent of how busy the machine is. */
  readonly agentCpuUsPerAck?: number;
  /** Store process CPU time per ACK in µs (with --store-pid). */
  readonly storeCpuUsPerAck?: number;
  /** Decisions of the window made by the failure policy (with --agent-metrics). */
  readonly failurePolicy?: FailurePolicyShare;
}

/** xorshift32: a cheap, seeded key chooser. */
export function keyChooser(keys: number, seed: number): () => number {
  let s = (seed | 0) || 0x2545f491;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) % keys;
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Runs the load described by `options`. */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const open = options.mode === "open";
  const histogram = new Histogram();
  const errors = new Map<string, number>();
  const firstErrors: string[] = [];
  const disconnects = new Map<number, number>();
  let measureStart = Infinity;
  let measureEnd = Infinity;
  let sending = true;
  let acks = 0, allowed = 0, denied = 0, noVerdict = 0, scheduled = 0, closedCount = 0;
  let wake: (() => void) | undefined;
  // Open loop: scheduled start times waiting for a free in-flight slot, per connection.
  const backlog: number[][] = Array.from({ length: options.connections }, () => []);
  const backlogHead: number[] = new Array(options.connections).fill(0);

  const sendBacklog = (c: LoadConnection): void => {
    const queue = backlog[c.index];
    let head = backlogHead[c.index];
    while (head < queue.length && c.inFlight < c.cap) c.send(queue[head++]);
    if (head === queue.length) {
      queue.length = 0;
      head = 0;
    } else if (head > 4096) {
      queue.splice(0, head);
      head = 0;
    }
    backlogHead[c.index] = head;
  };

  // Open-loop pacer. NOTIFY k is due at start + k / rate and goes to connection k mod N. The
  // pacer runs after every ACK and in a polling loop, so sends leave within µs of their due
  // time; the loop costs the generator one core. A late send is never hidden: latency counts
  // from the due time (no coordinated omission).
  let pacerActive = false;
  let pacerDone: (() => void) | undefined;
  let nextDue = 0;
  let k = 0;
  let runStart = 0;
  const intervalMs = 1000 / options.rate;
  const touched = new Set<LoadConnection>();
  const pump = (): void => {
    if (!pacerActive) return;
    const now = performance.now();
    if (nextDue > now) return;
    const end = Math.min(now, measureEnd);
    while (nextDue <= end && nextDue < measureEnd) {
      if (nextDue >= measureStart) scheduled++;
      const c = connections[k % connections.length];
      // A dead connection's share is lost and shows up as unanswered.
      if (c.state === "ready") {
        backlog[c.index].push(nextDue);
        touched.add(c);
      }
      k++;
      nextDue = runStart + k * intervalMs;
    }
    for (const c of touched) {
      sendBacklog(c);
      c.flush();
    }
    touched.clear();
    if (now >= measureEnd) {
      pacerActive = false;
      pacerDone?.();
    }
  };

  const events: ConnectionEvents = {
    ack(c, startMs, nowMs, verdict) {
      if (startMs >= measureStart && startMs < measureEnd) {
        acks++;
        histogram.record((nowMs - startMs) * 1000);
        if (verdict === Verdict.ALLOWED) allowed++;
        else if (verdict === Verdict.DENIED) denied++;
        else noVerdict++;
      }
      if (c.state !== "ready") return;
      // The connection flushes the batch once the whole received chunk is processed.
      // Open loop: the backlog was scheduled inside the window, so it is still sent while draining.
      if (open) {
        sendBacklog(c);
        pump();
      } else if (sending && c.inFlight < c.cap) c.send(nowMs);
    },
    ready(c) {
      if (!sending || open) return;
      const now = performance.now();
      for (let i = 0; i < c.cap; i++) c.send(now);
      c.flush();
    },
    error(kind, detail) {
      errors.set(kind, (errors.get(kind) ?? 0) + 1);
      if (firstErrors.length < 5) firstErrors.push(`${kind}: ${detail}`);
    },
    disconnect(status) {
      disconnects.set(status, (disconnects.get(status) ?? 0) + 1);
    },
    closed() {
      closedCount++;
      wake?.();
    },
  };

  // One bit per key: how many distinct clients the agent has seen (a million keys cost 125 KiB).
  const seen = new Uint8Array(Math.ceil(options.keys / 8));
  let distinctKeys = 0;
  const choose = keyChooser(options.keys, options.seed);
  const nextKey = (): number => {
    const k = choose();
    const bit = 1 << (k & 7);
    if ((seen[k >>> 3] & bit) === 0) {
      seen[k >>> 3] |= bit;
      distinctKeys++;
    }
    return k;
  };
  let classicStreamId = 0;
  const shared: ConnectionShared = {
    template: notifyTemplate(options.message),
    pool: new AddressPool({ keys: options.keys, ipv6Share: options.ipv6Share }),
    style: options.hello,
    events,
    nextKey,
    nextClassicStreamId: () => classicStreamId++,
    engineId: crypto.randomUUID(),
  };
  const connections = Array.from({ length: options.connections }, (_, i) => new LoadConnection(i, options.pipeline, shared));

  const rss = options.agentPid === undefined ? undefined : new RssSampler(options.agentPid);
  rss?.sample();
  const rssTimer = rss === undefined ? undefined : setInterval(() => rss.sample(), 200);

  await Promise.race([
    Promise.all(connections.map((c) => c.open(options.host, options.port).catch((e: Error) => events.error("connect", e.message)))),
    sleep(CONNECT_MS),
  ]);
  // Wait (bounded) for the HELLOs, so the warm-up starts with every connection sending.
  const helloUntil = performance.now() + CONNECT_MS;
  while (connections.some((c) => c.state === "hello" || c.state === "connecting") && performance.now() < helloUntil) await sleep(5);
  const connectionsReady = connections.filter((c) => c.state === "ready").length;

  const start = performance.now();
  runStart = start;
  nextDue = start;
  measureStart = start + options.warmupMs;
  measureEnd = measureStart + options.durationMs;
  // CPU counters at the start and end of the measured window.
  let agentCpu0: number | undefined, genCpu0 = 0, agentCpu1: number | undefined, genCpu1 = 0;
  let storeCpu0: number | undefined, storeCpu1: number | undefined;
  let counts0: Promise<DecisionCounts | undefined> | undefined, counts1: Promise<DecisionCounts | undefined> | undefined;
  const scrape = () => (options.agentMetrics === undefined ? Promise.resolve(undefined) : scrapeDecisionCounts(options.agentMetrics));
  const storeCpu = () => (options.storePid === undefined ? undefined : readCpuSeconds(options.storePid));
  const cpuNow = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  };
  let steal0 = readStealTicks();
  let steal1 = steal0;
  const cpuStartTimer = setTimeout(() => {
    steal0 = readStealTicks();
    agentCpu0 = options.agentPid === undefined ? undefined : readCpuSeconds(options.agentPid);
    storeCpu0 = storeCpu();
    genCpu0 = cpuNow();
    counts0 = scrape();
  }, Math.max(0, measureStart - performance.now()));
  const cpuEndTimer = setTimeout(() => {
    steal1 = readStealTicks();
    agentCpu1 = options.agentPid === undefined ? undefined : readCpuSeconds(options.agentPid);
    storeCpu1 = storeCpu();
    genCpu1 = cpuNow();
    counts1 = scrape();
  }, Math.max(0, measureEnd - performance.now()));
  if (connectionsReady > 0 && open) {
    await new Promise<void>((resolve) => {
      pacerDone = resolve;
      pacerActive = true;
      const tick = (): void => {
        pump();
        if (!pacerActive) return;
        // Poll the clock (setImmediate, ~1 µs) near the next due time, sleep only when it is far:
        // Bun's setTimeout floor is ~1.2 ms, which would add up to that to every latency. Napping
        // with Atomics.wait was tried: under CPU steal its wake-ups come milliseconds late.
        const wait = nextDue - performance.now();
        if (wait > 2) setTimeout(tick, wait - 1.5);
        else setImmediate(tick);
      };
      tick();
    });
  } else if (connectionsReady > 0) {
    await sleep(Math.max(0, measureEnd - performance.now()));
  }
  sending = false;
  // The open-loop pacer resolves at measureEnd, possibly before the timer fired: read now then.
  clearTimeout(cpuStartTimer);
  clearTimeout(cpuEndTimer);
  if (genCpu1 === 0) {
    steal1 = readStealTicks();
    agentCpu1 = options.agentPid === undefined ? undefined : readCpuSeconds(options.agentPid);
    storeCpu1 = storeCpu();
    genCpu1 = cpuNow();
    counts1 = scrape();
  }
  // Decisions still in flight at the window's end are counted by the agent after the scrape, and
  // ones in flight at its start before: over a window of seconds both edges are a few hundred.
  const failurePolicy = failurePolicyShare(await counts0, await counts1);
  const measuredSeconds = connectionsReady > 0 ? options.durationMs / 1000 : 0;

  const drainUntil = performance.now() + DRAIN_MS;
  const busy = (c: LoadConnection) => c.inFlight > 0 || backlog[c.index].length > backlogHead[c.index];
  while (performance.now() < drainUntil && connections.some((c) => c.state === "ready" && busy(c))) await sleep(5);
  let stuck = 0;
  for (const c of connections) stuck += c.inFlight + (backlog[c.index].length - backlogHead[c.index]);

  for (const c of connections) c.close();
  const closeUntil = performance.now() + CLOSE_MS;
  while (closedCount < connections.length && performance.now() < closeUntil) {
    await Promise.race([new Promise<void>((r) => (wake = r)), sleep(50)]);
  }
  for (const c of connections) if (c.state !== "closed") c.end();
  if (rssTimer !== undefined) clearInterval(rssTimer);
  rss?.sample();

  const { json: _json, ...rest } = options;
  return {
    options: rest,
    measuredSeconds,
    connectionsReady,
    sent: open ? scheduled : acks + stuck,
    acks,
    acksPerSecond: measuredSeconds > 0 ? acks / measuredSeconds : 0,
    allowed,
    denied,
    noVerdict,
    unanswered: open ? Math.max(0, scheduled - acks) : stuck,
    latencyUs: histogram.summary(),
    distinctKeys,
    errors: Object.fromEntries(errors),
    firstErrors,
    disconnects: Object.fromEntries([...disconnects].map(([k, v]) => [String(k), v])),
    agentRss: rss?.summary(),
    cpuSeconds: {
      agent: agentCpu0 === undefined || agentCpu1 === undefined ? undefined : agentCpu1 - agentCpu0,
      store: storeCpu0 === undefined || storeCpu1 === undefined ? undefined : storeCpu1 - storeCpu0,
      generator: genCpu1 - genCpu0,
    },
    otherCpuSeconds: steal0 === undefined || steal1 === undefined || agentCpu0 === undefined || agentCpu1 === undefined
      ? undefined
      : Math.max(0, (steal1.busy - steal0.busy) / USER_HZ - (agentCpu1 - agentCpu0) - (genCpu1 - genCpu0) - ((storeCpu1 ?? 0) - (storeCpu0 ?? 0))),
    stealShare: steal0 === undefined || steal1 === undefined || steal1.total === steal0.total ? undefined : (steal1.steal - steal0.steal) / (steal1.total - steal0.total),
    agentCpuUsPerAck: agentCpu0 === undefined || agentCpu1 === undefined || acks === 0 ? undefined : ((agentCpu1 - agentCpu0) * 1e6) / acks,
    storeCpuUsPerAck: storeCpu0 === undefined || storeCpu1 === undefined || acks === 0 ? undefined : ((storeCpu1 - storeCpu0) * 1e6) / acks,
    failurePolicy,
  };
}
