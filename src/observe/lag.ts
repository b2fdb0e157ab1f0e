/**
 * Event-loop lag (how late a timer fires) and process memory, for gauges read at scrape time.
 * @module
 */
import type { Clock, Timers } from "../agent/time.ts";

/** A running lag sampler. */
export interface LagSampler {
  /** Lag of the latest sample in seconds (0 before the first). */
  lagSeconds(): number;
  /** Largest lag seen since start, in seconds. */
  maxLagSeconds(): number;
  stop(): void;
}

const hostTimers: Timers = {
  schedule: (fn, ms) => globalThis.setTimeout(fn, ms),
  cancel: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof globalThis.setTimeout>),
};

/**
 * Schedules a timer every `intervalMs` (default 500) and records how much later than asked it
 * fired. The timer is `unref`-ed where the host allows it (Bun, Node), so it never keeps the
 * process alive; under Deno call `stop()` on shutdown.
 */
export function startLagSampler(o: { readonly clock: Clock; readonly intervalMs?: number; readonly timers?: Timers }): LagSampler {
  const intervalMs = o.intervalMs ?? 500;
  const timers = o.timers ?? hostTimers;
  let last = 0;
  let max = 0;
  let stopped = false;
  let handle: unknown;

  const schedule = (): void => {
    const expected = o.clock.nowUs() / 1000 + intervalMs;
    handle = timers.schedule(() => {
      if (stopped) return;
      last = Math.max(0, o.clock.nowUs() / 1000 - expected) / 1000;
      if (last > max) max = last;
      schedule();
    }, intervalMs);
    (handle as { unref?: () => void } | null)?.unref?.();
  };
  schedule();

  return {
    lagSeconds: () => last,
    maxLagSeconds: () => max,
    stop() {
      stopped = true;
      timers.cancel(handle);
    },
  };
}

/** Process memory as the host reports it (bytes). */
export interface MemoryUsage {
  readonly rss: number;
  readonly heapUsed: number;
}

/**
 * Reads `memoryUsage()` at most once per `maxAgeMs` (default 1000), so the RSS and heap gauges
 * of one scrape share one (possibly costly) system call.
 */
export function cachedMemoryUsage(memoryUsage: () => MemoryUsage, o: { readonly clock: Clock; readonly maxAgeMs?: number }): () => MemoryUsage {
  const maxAge = o.maxAgeMs ?? 1000;
  let at = Number.NEGATIVE_INFINITY;
  let value: MemoryUsage = { rss: 0, heapUsed: 0 };
  return () => {
    const t = o.clock.nowUs() / 1000;
    if (t - at >= maxAge) {
      value = memoryUsage();
      at = t;
    }
    return value;
  };
}
