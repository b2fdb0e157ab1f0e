import { describe, expect, test } from "bun:test";
import { limitKey, limitKeyShape, SplitKeyCheck } from "../../../src/ratelimit/identity/keys.ts";
import { MemoryStore } from "../../../src/ratelimit/memory/store.ts";
import type { GcraParams, LimitCheck } from "../../../src/ratelimit/store.ts";

const START = 1_800_000_000_000_000;
const SEED: GcraParams = { emissionIntervalUs: 10_000, burstToleranceUs: 200_000 };
/** One request per key per minute, no burst: a remembered key denies its second request. */
const STRICT: GcraParams = { emissionIntervalUs: 60_000_000, burstToleranceUs: 0 };

function fakeClock(start = START) {
  const clock = { now: start, nowUs: () => clock.now };
  return clock;
}

function one(key: string, params: GcraParams = SEED, cost = 1): LimitCheck[] {
  return [{ key, params, cost, shadow: false }];
}

describe("MemoryStore", () => {
  test("check() answers synchronously with a Decision, not a Promise", () => {
    const store = new MemoryStore({ clock: fakeClock() });
    const d = store.check(one("k"));
    expect(d instanceof Promise).toBe(false);
    expect(d).toMatchObject({ allowed: true, decidingIndex: 0, degraded: false });
  });

  test("admits the seed burst of 21, denies the 22nd with retry 10 ms, admits one more after 10 ms", () => {
    const clock = fakeClock();
    const store = new MemoryStore({ clock });
    for (let i = 0; i < 21; i++) expect(store.check(one("k")).allowed).toBe(true);
    const denied = store.check(one("k"));
    expect(denied.allowed).toBe(false);
    expect(denied.results[0].retryAfterUs).toBe(10_000);
    clock.now += 10_000;
    expect(store.check(one("k")).allowed).toBe(true);
    expect(store.check(one("k")).allowed).toBe(false);
  });

  test("a denied multi-limit request writes nothing to the allowing limit", () => {
    const store = new MemoryStore({ clock: fakeClock() });
    store.check(one("b", STRICT));
    const d = store.check([...one("a"), ...one("b", STRICT)]);
    expect(d.allowed).toBe(false);
    expect(d.decidingIndex).toBe(1);
    expect(store.check(one("a")).results[0].remaining).toBe(20);
  });

  test("floors a fractional clock to whole microseconds", () => {
    const clock = { nowUs: () => START + 0.75 };
    const store = new MemoryStore({ clock });
    expect(store.check(one("k")).results[0].resetUs).toBe(10_000);
  });

  test("keeps at most maxKeys keys under 3 × maxKeys distinct live keys, evicting the oldest debts", () => {
    const clock = fakeClock();
    const store = new MemoryStore({ clock, maxKeys: 1_000, seed: 42 });
    for (let i = 0; i < 3_000; i++) {
      clock.now += 1_000;
      store.check(one(`k${i}`, STRICT));
      expect(store.size).toBeLessThanOrEqual(1_000);
    }
    expect(store.size).toBe(1_000);
    // The newest key has the largest TAT, so it is never the sampled minimum: still remembered.
    expect(store.check(one("k2999", STRICT)).allowed).toBe(false);
  });

  test("reclaims expired keys a few per check, without timers", () => {
    const clock = fakeClock();
    const store = new MemoryStore({ clock, seed: 7 });
    for (let i = 0; i < 500; i++) store.check(one(`k${i}`));
    expect(store.size).toBe(500);
    clock.now += 210_000; // every TAT is now ≤ now
    for (let i = 0; i < 300; i++) store.check(one("hot", SEED, 0));
    expect(store.size).toBe(0);
  });

  test("does not store a key whose request leaves it fresh (cost 0 on an absent key)", () => {
    const store = new MemoryStore({ clock: fakeClock() });
    expect(store.check(one("k", SEED, 0)).allowed).toBe(true);
    expect(store.size).toBe(0);
  });

  test("keeps keys that differ only in non-ASCII or beyond-Latin-1 characters apart", () => {
    const store = new MemoryStore({ clock: fakeClock() });
    const keys = ["rl:{é}:x", "rl:{e}:x", "rl:{ключ}:x", "rl:{ключь}:x", "rl:{😀}:x", "", "rl:{\u00ff}:x", "rl:{\u0100}:x"];
    for (const key of keys) expect(store.check(one(key, STRICT)).allowed).toBe(true);
    for (const key of keys) expect(store.check(one(key, STRICT)).allowed).toBe(false);
    expect(store.size).toBe(keys.length);
  });

  test("a policy check (key in parts) and a plain check with the same key text share one state", () => {
    const store = new MemoryStore({ clock: fakeClock(), seed: 3 });
    const shape = limitKeyShape("rl:", { name: "default", params: STRICT });
    for (const identity of ["192.0.2.1", "a{b}", ""]) {
      const split = new SplitKeyCheck(identity === "" ? "%" : identity.replace("{", "%7B").replace("}", "%7D"), { shape, params: STRICT, cost: 1, shadow: false });
      expect(split.key).toBe(limitKey("rl:", identity, "default", STRICT));
      expect(store.check([split]).allowed).toBe(true);
      expect(store.check(one(split.key, STRICT)).allowed).toBe(false);
    }
    expect(store.size).toBe(3);
  });

  test("rejects an invalid cost with RangeError before writing anything", () => {
    const store = new MemoryStore({ clock: fakeClock() });
    expect(() => store.check([...one("a", STRICT), ...one("b", STRICT, -1)])).toThrow(RangeError);
    expect(store.size).toBe(0);
    expect(store.check(one("a", STRICT)).allowed).toBe(true);
  });

  test("clear() and close() forget every key", async () => {
    const store = new MemoryStore({ clock: fakeClock() });
    store.check(one("a", STRICT));
    store.clear();
    expect(store.size).toBe(0);
    expect(store.check(one("a", STRICT)).allowed).toBe(true);
    await store.close();
    expect(store.size).toBe(0);
  });
});
