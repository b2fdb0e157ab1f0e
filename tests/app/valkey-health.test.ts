import { describe, expect, test } from "bun:test";
import type { Timers } from "../../src/agent/transport.ts";
import { FAILURES_TO_DOWN, PING_INTERVAL_MS, RECHECK_INTERVAL_MS, valkeyReadiness, watchValkey } from "../../src/app/valkey-health.ts";
import { createHealth } from "../../src/observe/health.ts";

/** Timers run by hand: `fire()` runs every scheduled callback once. */
function manualTimers() {
  let queue: (() => void)[] = [];
  const timers: Timers = {
    schedule: (callback) => {
      queue.push(callback);
      return callback;
    },
    cancel: (handle) => {
      queue = queue.filter((c) => c !== handle);
    },
  };
  return {
    timers,
    pending: () => queue.length,
    async fire() {
      const now = queue;
      queue = [];
      for (const callback of now) callback();
      await Bun.sleep(0);
    },
  };
}

describe("watchValkey()", () => {
  test("PINGs without traffic, marks Valkey down after consecutive failures and up on the next PONG", async () => {
    const clock = manualTimers();
    let answer = true;
    let pings = 0;
    const changes: boolean[] = [];
    const health = watchValkey({ ping: async () => (pings++, answer), timers: clock.timers, now: () => 0, onChange: (r) => changes.push(r) });
    await Bun.sleep(0);
    expect(health.reachable).toBe(true);
    answer = false;
    for (let i = 0; i < FAILURES_TO_DOWN - 1; i++) await clock.fire();
    expect(health.reachable).toBe(true); // one lost PING is not an outage
    await clock.fire();
    expect(health.reachable).toBe(false);
    answer = true;
    await clock.fire();
    expect(health.reachable).toBe(true);
    expect(changes).toEqual([false, true]);
    expect(pings).toBe(FAILURES_TO_DOWN + 2);
    health.stop();
    expect(clock.pending()).toBe(0);
  });

  test("a rejected PING counts as a failure, and only one PING is ever in flight", async () => {
    const clock = manualTimers();
    const health = watchValkey({ ping: () => Promise.reject(new Error("socket closed")), timers: clock.timers, now: () => 0 });
    for (let i = 0; i < FAILURES_TO_DOWN; i++) {
      await Bun.sleep(0);
      expect(clock.pending()).toBe(1);
      await clock.fire();
    }
    expect(health.reachable).toBe(false);
    health.stop();
  });
});

describe("valkeyReadiness()", () => {
  const down = { reachable: false, sinceMs: () => 6_000 };
  const up = { reachable: true, sinceMs: () => 0 };

  test("deny with Valkey unreachable is not ready, naming Valkey and the policy", () => {
    expect(valkeyReadiness({ policy: "deny", breaker: "closed", health: down })).toEqual({
      ok: false,
      reason: "valkey unreachable for 6 s (PING unanswered) and failure policy is deny",
    });
    expect(valkeyReadiness({ policy: "deny", breaker: "open", health: up }).ok).toBe(false);
  });

  test("local and allow stay ready and say why decisions are degraded", () => {
    expect(valkeyReadiness({ policy: "local", breaker: "closed", health: down })).toEqual({
      ok: true,
      reason: "valkey unreachable for 6 s (PING unanswered); failure policy local decides",
    });
    expect(valkeyReadiness({ policy: "allow", breaker: "closed", health: up })).toEqual({ ok: true });
  });

  test("/readyz shows the reason of a ready-but-degraded agent", () => {
    const health = createHealth({ canDecide: () => valkeyReadiness({ policy: "local", breaker: "closed", health: down }) });
    health.setListening(true);
    expect(health.readiness()).toEqual({ status: 200, body: { status: "ready", reason: "valkey unreachable for 6 s (PING unanswered); failure policy local decides" } });
  });
});

describe("watchValkey(): readiness follows Valkey within a moment", () => {
  /** Timers that remember each delay asked for. */
  function recordingTimers() {
    const delays: number[] = [];
    let queue: (() => void)[] = [];
    const timers: Timers = {
      schedule: (callback, ms) => {
        delays.push(ms);
        queue.push(callback);
        return callback;
      },
      cancel: (handle) => {
        queue = queue.filter((c) => c !== handle);
      },
    };
    return { timers, delays, async fire() {
      const now = queue;
      queue = [];
      for (const callback of now) callback();
      await Bun.sleep(0);
    } };
  }

  test("started with Valkey down, the first failed PING makes it unreachable (deny: not ready), not the second 2 s later", async () => {
    const clock = recordingTimers();
    const health = watchValkey({ ping: async () => false, timers: clock.timers, now: () => 0 });
    expect(valkeyReadiness({ policy: "deny", breaker: "closed", health })).toEqual({ ok: false, reason: "valkey not answered yet (first PING pending) and failure policy is deny" });
    await Bun.sleep(0);
    expect(health.reachable).toBe(false);
    expect(valkeyReadiness({ policy: "deny", breaker: "closed", health }).ok).toBe(false);
    health.stop();
  });

  test(`PINGs every ${PING_INTERVAL_MS} ms while Valkey answers, every ${RECHECK_INTERVAL_MS} ms while it does not, so recovery shows within ${RECHECK_INTERVAL_MS} ms`, async () => {
    const clock = recordingTimers();
    let answer = true;
    const health = watchValkey({ ping: async () => answer, timers: clock.timers, now: () => 0 });
    await Bun.sleep(0);
    answer = false;
    for (let i = 0; i < FAILURES_TO_DOWN; i++) await clock.fire();
    expect(health.reachable).toBe(false);
    answer = true;
    await clock.fire();
    expect(health.reachable).toBe(true);
    expect(clock.delays).toEqual([PING_INTERVAL_MS, ...Array(FAILURES_TO_DOWN).fill(RECHECK_INTERVAL_MS), PING_INTERVAL_MS]);
    health.stop();
  });
});
