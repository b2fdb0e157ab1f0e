import { describe, expect, test } from "bun:test";
import type { Timers } from "../../src/agent/transport.ts";
import { FAILURES_TO_DOWN, valkeyReadiness, watchValkey } from "../../src/app/valkey-health.ts";
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
