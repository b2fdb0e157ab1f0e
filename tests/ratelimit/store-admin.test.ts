// Reading and deleting single keys: keyView's arithmetic against real decisions, the memory
// store's peekKey/deleteKey (by key text, also for keys the policy built in parts), and the
// deny cache's denial/forget.
import { describe, expect, test } from "bun:test";
import { DenyCache } from "../../src/ratelimit/resilience/deny-cache.ts";
import { limitKeyShape, SplitKeyCheck } from "../../src/ratelimit/identity/keys.ts";
import { MemoryStore } from "../../src/ratelimit/memory/store.ts";
import { keyView } from "../../src/ratelimit/store-admin.ts";
import type { GcraParams, LimitCheck } from "../../src/ratelimit/store.ts";

const START = 1_800_000_000_000_000;
/** 1 per second, burst 3. */
const PER_SECOND: GcraParams = { emissionIntervalUs: 1_000_000, burstToleranceUs: 2_000_000 };

function fakeClock() {
  const clock = { now: START, nowUs: () => clock.now };
  return clock;
}
const check = (key: string, cost = 1): LimitCheck[] => [{ key, params: PER_SECOND, cost, shadow: false }];

describe("keyView()", () => {
  test("an absent key is a full burst, allowed, nothing to reset", () => {
    expect(keyView(PER_SECOND, 1, { nowUs: START, tatUs: undefined })).toEqual({
      tatUs: null,
      remaining: 3,
      resetMs: 0,
      allowed: true,
      retryAfterMs: 0,
      retryAfterSeconds: 0,
      neverPasses: false,
    });
  });

  test("an expired TAT reads as absent", () => {
    expect(keyView(PER_SECOND, 1, { nowUs: START, tatUs: START - 5 }).tatUs).toBeNull();
  });

  test("after a spent burst it shows remaining 0 and the retry-after the store would announce", () => {
    const clock = fakeClock();
    const store = new MemoryStore({ clock, seed: 1 });
    for (let i = 0; i < 3; i++) store.check(check("k"));
    clock.now += 250_000;
    const denied = store.check(check("k"));
    expect(denied.allowed).toBe(false);
    const view = keyView(PER_SECOND, 1, store.peekKey("k"));
    expect(view).toEqual({
      tatUs: START + 3_000_000,
      remaining: 0,
      resetMs: 2_750,
      allowed: false,
      retryAfterMs: denied.results[0].retryAfterUs / 1000,
      retryAfterSeconds: 1,
      neverPasses: false,
    });
    // A costlier request waits longer; one beyond the burst can never pass.
    expect(keyView(PER_SECOND, 2, store.peekKey("k")).retryAfterMs).toBe(1_750);
    expect(keyView(PER_SECOND, 4, store.peekKey("k")).neverPasses).toBe(true);
  });
});

describe("MemoryStore key admin", () => {
  test("peekKey() consumes nothing: the next check sees the same state", () => {
    const clock = fakeClock();
    const store = new MemoryStore({ clock, seed: 2 });
    store.check(check("k"));
    for (let i = 0; i < 5; i++) store.peekKey("k");
    expect(store.check(check("k")).results[0].remaining).toBe(1);
    expect(store.peekKey("absent")).toEqual({ nowUs: START, tatUs: undefined });
    expect(store.size).toBe(1);
  });

  test("peekKey()/deleteKey() by text find the key the policy wrote in parts", () => {
    const clock = fakeClock();
    const store = new MemoryStore({ clock, seed: 3 });
    const split = new SplitKeyCheck("10.0.0.7", { shape: limitKeyShape("rl:", { name: "login", params: PER_SECOND }), params: PER_SECOND, cost: 1, shadow: false });
    store.check([split]);
    expect(store.peekKey(split.key).tatUs).toBe(START + 1_000_000);
    expect(store.deleteKey(split.key)).toBe(START + 1_000_000);
    expect(store.peekKey(split.key).tatUs).toBeUndefined();
    expect(store.deleteKey(split.key)).toBeUndefined();
    expect(store.size).toBe(0);
  });

  test("deleteKey() gives a denied key its full burst back and leaves other keys alone", () => {
    const clock = fakeClock();
    const store = new MemoryStore({ clock, seed: 4 });
    for (let i = 0; i < 4; i++) {
      store.check(check("a"));
      store.check(check("b"));
    }
    expect(store.check(check("a")).allowed).toBe(false);
    store.deleteKey("a");
    const fresh = store.check(check("a"));
    expect([fresh.allowed, fresh.results[0].remaining]).toEqual([true, 2]);
    expect(store.check(check("b")).allowed).toBe(false);
  });
});

describe("DenyCache denial()/forget()", () => {
  test("denial() shows a holding denial with its cost; forget() drops it so lookup misses", () => {
    const cache = new DenyCache({ maxKeys: 4 });
    cache.remember("k", 2, START + 1_000);
    cache.remember("other", 1, START + 5_000);
    expect(cache.denial("k", START)).toEqual({ untilUs: START + 1_000, cost: 2 });
    expect(cache.denial("k", START + 1_000)).toBeUndefined();
    expect(cache.forget("k")).toBe(true);
    expect(cache.forget("k")).toBe(false);
    expect(cache.lookup("k", 5, START)).toBeUndefined();
    expect(cache.lookup("other", 1, START)).toBe(5_000);
    expect(cache.size).toBe(1);
  });
});
