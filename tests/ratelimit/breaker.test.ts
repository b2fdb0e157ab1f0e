import { describe, expect, test } from "bun:test";
import { type BreakerState, CircuitBreaker } from "../../src/ratelimit/breaker.ts";

function setup(options = {}) {
  let now = 0;
  const changes: BreakerState[] = [];
  const breaker = new CircuitBreaker({ failureThreshold: 3, clock: { nowUs: () => now }, onChange: (s) => changes.push(s), ...options });
  return { breaker, changes, advanceMs: (ms: number) => (now += ms * 1000) };
}

describe("CircuitBreaker", () => {
  test("stays closed below the failure threshold and a success resets the count", () => {
    const { breaker } = setup();
    breaker.failure();
    breaker.failure();
    breaker.success();
    breaker.failure();
    breaker.failure();
    expect(breaker.state).toBe("closed");
    expect(breaker.tryAcquire()).toBe(true);
  });

  test("opens after N consecutive failures and refuses calls until the backoff passes", () => {
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

  test("each failed probe doubles the open period up to the maximum", () => {
    const { breaker, advanceMs } = setup({ maxBackoffMs: 1000 });
    for (let i = 0; i < 3; i++) breaker.failure();
    const periods: number[] = [];
    for (let round = 0; round < 5; round++) {
      let waited = 0;
      while (!breaker.tryAcquire()) {
        advanceMs(10);
        waited += 10;
      }
      periods.push(waited);
      breaker.failure();
    }
    expect(periods).toEqual([250, 500, 1000, 1000, 1000]);
  });

  test("a success after the open period resets the backoff to its initial value", () => {
    const { breaker, advanceMs } = setup();
    for (let i = 0; i < 3; i++) breaker.failure();
    advanceMs(250);
    breaker.tryAcquire();
    breaker.failure();
    advanceMs(500);
    breaker.tryAcquire();
    breaker.success();
    for (let i = 0; i < 3; i++) breaker.failure();
    advanceMs(250);
    expect(breaker.state).toBe("half-open");
  });
});
