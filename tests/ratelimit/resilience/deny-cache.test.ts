import { describe, expect, test } from "bun:test";
import { DenyCache } from "../../../src/ratelimit/resilience/deny-cache.ts";
import { MemoryStore } from "../../../src/ratelimit/memory/store.ts";
import type { GcraParams } from "../../../src/ratelimit/store.ts";
import { rng } from "../../helpers/rng.ts";

const NOW = 1_800_000_000_000_000;

describe("DenyCache", () => {
  test("a cached denial is never wrong: randomized against the authoritative store, with other agents writing", () => {
    const clock = { now: NOW, nowUs: () => clock.now };
    const store = new MemoryStore({ clock, seed: 11 });
    const cache = new DenyCache({ maxKeys: 50 });
    const params: GcraParams = { emissionIntervalUs: 10_000, burstToleranceUs: 40_000 };
    const next = rng(2024);
    let hits = 0;
    for (let i = 0; i < 20_000; i++) {
      clock.now += next(4_000);
      const key = `k${next(8)}`;
      const cost = next(4);
      const checks = [{ key, params, cost, shadow: false }];
      if (next(5) === 0) {
        store.check(checks); // another agent: the cache never hears of it
        continue;
      }
      const cached = cache.lookup(key, cost, clock.now);
      const truth = store.check(checks);
      if (cached !== undefined) {
        hits++;
        expect(truth.allowed).toBe(false);
        expect(truth.results[0].retryAfterUs).toBeGreaterThanOrEqual(cached);
      } else if (!truth.allowed && !truth.results[0].neverPasses) {
        cache.remember(key, cost, clock.now + truth.results[0].retryAfterUs);
      }
    }
    expect(hits).toBeGreaterThan(100);
  });

  test("a denial for cost c answers for costs ≥ c and misses for cheaper requests", () => {
    const cache = new DenyCache();
    cache.remember("k", 3, NOW + 500);
    expect(cache.lookup("k", 2, NOW)).toBeUndefined();
    expect(cache.lookup("k", 3, NOW)).toBe(500);
    expect(cache.lookup("k", 7, NOW + 100)).toBe(400);
    expect(cache.lookup("other", 3, NOW)).toBeUndefined();
  });

  test("an expired denial misses and is dropped", () => {
    const cache = new DenyCache();
    cache.remember("k", 1, NOW + 500);
    expect(cache.lookup("k", 1, NOW + 500)).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  test("keeps the entry covering more: a cheaper cost or a later end replaces, a dominated one does not", () => {
    const cache = new DenyCache();
    cache.remember("k", 2, NOW + 500);
    cache.remember("k", 3, NOW + 400); // dominated: ignored
    expect(cache.lookup("k", 2, NOW)).toBe(500);
    cache.remember("k", 1, NOW + 300); // cheaper: covers more costs
    expect(cache.lookup("k", 1, NOW)).toBe(300);
    cache.remember("k", 1, NOW + 900);
    expect(cache.lookup("k", 1, NOW)).toBe(900);
    expect(cache.size).toBe(1);
  });

  test("when full, keeps the latest-expiring denials (expired and soonest-expiring go first)", () => {
    const cache = new DenyCache({ maxKeys: 100 });
    const next = rng(5);
    const ends = new Map<string, number>();
    for (let i = 0; i < 1_000; i++) {
      const end = NOW + 1 + next(1_000_000);
      ends.set(`k${i}`, end);
      cache.remember(`k${i}`, 1, end);
      expect(cache.size).toBeLessThanOrEqual(100);
    }
    const kept = [...ends].sort((a, b) => b[1] - a[1]).slice(0, 100);
    const cutoff = kept[kept.length - 1][1];
    for (const [key, end] of ends) {
      const hit = cache.lookup(key, 1, NOW);
      if (end > cutoff) expect(hit).toBe(end - NOW);
      else if (end < cutoff) expect(hit).toBeUndefined();
    }
  });

  // The model keeps every denial; a cache with room for all 200 keys must agree with it on every
  // lookup, and a bounded one may only miss where the model hits (evicted), never answer otherwise.
  for (const maxKeys of [256, 64]) {
    test(`stays consistent under random remember, lookup and expiry (heap and slots against a model, maxKeys ${maxKeys})`, () => {
      const cache = new DenyCache({ maxKeys });
      const model = new Map<string, { cost: number; until: number }>();
      const next = rng(77);
      let now = NOW;
      let hits = 0;
      let modelHits = 0;
      for (let i = 0; i < 20_000; i++) {
        now += next(50);
        const key = `k${next(200)}`;
        if (next(2) === 0) {
          const cost = 1 + next(3);
          const until = now + 1 + next(5_000);
          cache.remember(key, cost, until);
          const old = model.get(key);
          if (!old || !(cost >= old.cost && until <= old.until)) model.set(key, { cost, until });
        } else {
          const cost = 1 + next(3);
          const hit = cache.lookup(key, cost, now);
          const m = model.get(key);
          const expected = m !== undefined && cost >= m.cost && m.until > now ? m.until - now : undefined;
          if (expected !== undefined) modelHits++;
          if (hit !== undefined) hits++;
          if (maxKeys >= 200 || hit !== undefined) expect(hit).toBe(expected);
        }
        expect(cache.size).toBeLessThanOrEqual(maxKeys);
      }
      // Both runs really exercise hits: the bounded cache still answers most of what the model does.
      expect(modelHits).toBeGreaterThan(1_000);
      expect(hits).toBeGreaterThan(maxKeys >= 200 ? modelHits - 1 : modelHits / 4);
    });
  }

  test("clear() forgets everything", () => {
    const cache = new DenyCache();
    cache.remember("k", 1, NOW + 10);
    cache.clear();
    expect(cache.size).toBe(0);
    expect(cache.lookup("k", 1, NOW)).toBeUndefined();
  });
});
