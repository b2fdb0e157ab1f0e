import { describe, expect, test } from "bun:test";
import { type BreakerState, CircuitBreaker } from "../../../src/ratelimit/resilience/breaker.ts";

function setup(options = {}) {
  let now = 0;
  const changes: BreakerState[] = [];
  const breaker = new CircuitBreaker({ failureThreshold: 3, clock: { nowUs: () => now }, onChange: (s) => changes.push(s), ...options });
  return { breaker, changes, advanceMs: (ms: number) => (now += ms * 1000) };
}

describe("CircuitBreaker: errors", () => {
  test("stays closed below the error threshold and a success resets the count", () => {
    const { breaker } = setup();
    breaker.failure();
    breaker.failure();
    breaker.success();
    breaker.failure();
    breaker.failure();
    expect(breaker.state).toBe("closed");
    expect(breaker.tryAcquire()).toBe(true);
  });

  test("opens after N consecutive errors and refuses calls until the backoff passes", () => {
    const { breaker, changes, advanceMs } = setup();
    for (let i = 0; i < 3; i++) breaker.failure();
    expect(breaker.state).toBe("open");
    expect(breaker.tryAcquire()).toBe(false);
    advanceMs(249);
    expect(breaker.tryAcquire()).toBe(false);
    advanceMs(1);
    expect(breaker.state).toBe("half-open");
    expect(changes).toEqual(["open", "half-open"]);
  });

  test("an error share at the ratio over the window opens it even between successes", () => {
    const { breaker, advanceMs } = setup({ failureThreshold: 1000, minimumCalls: 20 });
    for (let i = 0; i < 9; i++) {
      breaker.success();
      breaker.failure();
      advanceMs(10);
    }
    expect(breaker.state).toBe("closed"); // 18 calls: below the minimum
    breaker.success();
    breaker.failure();
    expect(breaker.state).toBe("open");
  });

  test("errors older than the window are forgotten", () => {
    const { breaker, advanceMs } = setup({ failureThreshold: 1000, minimumCalls: 10 });
    for (let i = 0; i < 8; i++) breaker.failure();
    advanceMs(1100);
    for (let i = 0; i < 9; i++) breaker.success();
    breaker.failure();
    breaker.failure();
    expect(breaker.state).toBe("closed");
  });
});

describe("CircuitBreaker: deadline misses", () => {
  test("a store that answers every call after its deadline opens it: slow beyond the deadline for the window", () => {
    const { breaker, advanceMs } = setup();
    let openedAtMs = -1;
    for (let ms = 0; ms < 1000 && openedAtMs < 0; ms++) {
      for (let i = 0; i < 10; i++) breaker.timeout();
      if (breaker.state === "open") openedAtMs = ms;
      advanceMs(1);
    }
    expect(openedAtMs).toBeGreaterThanOrEqual(100);
    expect(openedAtMs).toBeLessThan(200);
  });

  test("misses below the ratio, even many of them, keep it closed", () => {
    const { breaker, advanceMs } = setup();
    for (let ms = 0; ms < 3000; ms++) {
      for (let i = 0; i < 6; i++) breaker.success();
      for (let i = 0; i < 4; i++) breaker.timeout(); // 40 % of every millisecond's calls
      advanceMs(1);
    }
    expect(breaker.state).toBe("closed");
  });

  test("one stalled batch at the start of a window does not open it alone", () => {
    const { breaker, advanceMs } = setup();
    for (let i = 0; i < 64; i++) breaker.timeout();
    advanceMs(1);
    for (let ms = 0; ms < 300; ms++) {
      for (let i = 0; i < 2; i++) breaker.success();
      advanceMs(1);
    }
    breaker.timeout();
    expect(breaker.state).toBe("closed");
  });

  test("a few misses under load beside answers never open it", () => {
    const { breaker, advanceMs } = setup();
    for (let ms = 0; ms < 2000; ms++) {
      for (let i = 0; i < 20; i++) breaker.success();
      breaker.timeout();
      advanceMs(1);
    }
    expect(breaker.state).toBe("closed");
  });

  test("a silent store (no reply at all) opens it once a bucket of misses is judged", () => {
    const { breaker, changes, advanceMs } = setup();
    let openedAtMs = -1;
    for (let ms = 0; ms < 1000 && openedAtMs < 0; ms++) {
      breaker.timeout();
      if (breaker.state === "open") openedAtMs = ms;
      advanceMs(1);
    }
    expect(openedAtMs).toBeGreaterThanOrEqual(100);
    expect(openedAtMs).toBeLessThan(200);
    expect(changes).toEqual(["open"]);
  });

  test("misses alone do not count toward the consecutive-error threshold", () => {
    const { breaker } = setup();
    for (let i = 0; i < 10; i++) breaker.timeout();
    expect(breaker.state).toBe("closed");
  });
});

describe("CircuitBreaker: probes", () => {
  test("half-open lets exactly one probe through; its success closes the breaker", () => {
    const { breaker, changes, advanceMs } = setup();
    for (let i = 0; i < 3; i++) breaker.failure();
    advanceMs(250);
    expect(breaker.tryAcquire()).toBe(true);
    expect(breaker.tryAcquire()).toBe(false);
    breaker.success();
    expect(breaker.state).toBe("closed");
    expect(changes).toEqual(["open", "half-open", "closed"]);
  });

  test("a probe that misses its deadline re-opens it", () => {
    const { breaker, advanceMs } = setup();
    for (let i = 0; i < 3; i++) breaker.failure();
    advanceMs(250);
    expect(breaker.tryAcquire()).toBe(true);
    breaker.timeout();
    expect(breaker.state).toBe("open");
  });

  /** Opens the breaker, then fails `rounds` probes; returns how long each probe had to wait (10 ms steps). */
  function failedProbeWaits(options: { maxBackoffMs?: number }, rounds: number): number[] {
    const { breaker, advanceMs } = setup(options);
    for (let i = 0; i < 3; i++) breaker.failure();
    const periods: number[] = [];
    for (let round = 0; round < rounds; round++) {
      let waited = 0;
      while (!breaker.tryAcquire()) {
        advanceMs(10);
        waited += 10;
      }
      periods.push(waited);
      breaker.failure();
    }
    return periods;
  }

  test("each failed probe doubles the open period up to the maximum", () => {
    expect(failedProbeWaits({ maxBackoffMs: 1000 }, 5)).toEqual([250, 500, 1000, 1000, 1000]);
  });

  test("by default the open period stops doubling at 5 s, so a healed store is probed again within 5 s", () => {
    expect(failedProbeWaits({}, 8)).toEqual([250, 500, 1000, 2000, 4000, 5000, 5000, 5000]);
  });

  test("after closing, the window starts empty: old errors do not re-open it", () => {
    const { breaker, advanceMs } = setup({ failureThreshold: 1000, minimumCalls: 4 });
    for (let i = 0; i < 4; i++) breaker.failure();
    expect(breaker.state).toBe("open");
    advanceMs(250);
    breaker.tryAcquire();
    breaker.success();
    breaker.success();
    breaker.success();
    breaker.failure();
    expect(breaker.state).toBe("closed");
  });
});
