import { describe, expect, test } from "bun:test";
import type { Timers } from "../../src/agent/time.ts";
import { cachedMemoryUsage, startLagSampler } from "../../src/observe/lag.ts";

function manualTimers() {
  const pending: { fn: () => void; ms: number }[] = [];
  let cleared = 0;
  const timers: Timers = {
    schedule(fn, ms) {
      const entry = { fn, ms };
      pending.push(entry);
      return entry;
    },
    cancel(handle) {
      const i = pending.indexOf(handle as (typeof pending)[number]);
      if (i >= 0) pending.splice(i, 1);
      cleared++;
    },
  };
  return { timers, pending, cleared: () => cleared };
}

describe("startLagSampler()", () => {
  test("records how much later than scheduled the timer fired, in seconds", () => {
    let now = 1_000;
    const { timers, pending } = manualTimers();
    const sampler = startLagSampler({ clock: { nowUs: () => now * 1000 }, intervalMs: 500, timers });
    expect(sampler.lagSeconds()).toBe(0);
    now += 500 + 120;
    pending.shift()?.fn();
    expect(sampler.lagSeconds()).toBeCloseTo(0.12, 9);
    now += 500;
    pending.shift()?.fn();
    expect(sampler.lagSeconds()).toBe(0);
    expect(sampler.maxLagSeconds()).toBeCloseTo(0.12, 9);
    expect(pending).toHaveLength(1);
  });

  test("stop() clears the pending timer", () => {
    const { timers, pending, cleared } = manualTimers();
    const sampler = startLagSampler({ clock: { nowUs: () => 0 }, timers });
    sampler.stop();
    expect(cleared()).toBe(1);
    expect(pending).toHaveLength(0);
  });

  test("the host timer does not keep the process alive and stops cleanly", () => {
    const sampler = startLagSampler({ clock: { nowUs: () => Date.now() * 1000 }, intervalMs: 10 });
    sampler.stop();
    expect(sampler.lagSeconds()).toBe(0);
  });
});

describe("cachedMemoryUsage()", () => {
  test("reads the host at most once per maxAgeMs", () => {
    let now = 0;
    let calls = 0;
    const read = cachedMemoryUsage(() => ({ rss: ++calls * 100, heapUsed: 1 }), { clock: { nowUs: () => now * 1000 }, maxAgeMs: 1000 });
    expect(read().rss).toBe(100);
    expect(read().rss).toBe(100);
    now = 1000;
    expect(read().rss).toBe(200);
    expect(calls).toBe(2);
  });
});
