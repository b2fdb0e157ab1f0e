import { describe, expect, test } from "bun:test";
import { decide, gcraStep, tatTtlMs } from "../../src/ratelimit/gcra.ts";
import type { Decision, GcraParams, LimitCheck } from "../../src/ratelimit/store.ts";

const SEED: GcraParams = { emissionIntervalUs: 10_000, burstToleranceUs: 200_000 };
const NOW = 1_800_000_000_000_000;

/** A map-backed key space driven through decide(), the request-level semantics under test. */
function keySpace() {
  const tats = new Map<string, number>();
  const writes: string[] = [];
  return {
    tats,
    writes,
    check(checks: readonly LimitCheck[], nowUs: number): Decision {
      return decide(checks, {
        nowUs,
        storedTat: (c) => tats.get(c.key),
        commit: (c, tat) => {
          writes.push(c.key);
          tats.set(c.key, tat);
        },
      });
    },
  };
}

function limit(key: string, options: { params?: GcraParams; cost?: number; shadow?: boolean } = {}): LimitCheck {
  return { key, params: options.params ?? SEED, cost: options.cost ?? 1, shadow: options.shadow ?? false };
}

describe("gcraStep()", () => {
  test("admits τ/T + 1 = 21 requests at once, denies the 22nd with retry 10 ms, admits one more 10 ms later", () => {
    let tat: number | undefined;
    for (let i = 0; i < 21; i++) {
      const o = gcraStep({ params: SEED, cost: 1 }, { storedTat: tat, nowUs: NOW });
      expect(o.result.allowed).toBe(true);
      expect(o.result.remaining).toBe(20 - i);
      tat = o.newTat;
    }
    const denied = gcraStep({ params: SEED, cost: 1 }, { storedTat: tat, nowUs: NOW });
    expect(denied.result).toEqual({ allowed: false, neverPasses: false, retryAfterUs: 10_000, remaining: 0, resetUs: 210_000 });
    expect(denied.newTat).toBe(tat!);
    const later = gcraStep({ params: SEED, cost: 1 }, { storedTat: tat, nowUs: NOW + 10_000 });
    expect(later.result).toEqual({ allowed: true, neverPasses: false, retryAfterUs: 0, remaining: 0, resetUs: 210_000 });
    const again = gcraStep({ params: SEED, cost: 1 }, { storedTat: later.newTat, nowUs: NOW + 10_000 });
    expect(again.result.allowed).toBe(false);
    expect(again.result.retryAfterUs).toBe(10_000);
  });

  test("a fresh key reports remaining τ/T and reset T after one unit request", () => {
    const o = gcraStep({ params: SEED, cost: 1 }, { storedTat: undefined, nowUs: NOW });
    expect(o.result).toEqual({ allowed: true, neverPasses: false, retryAfterUs: 0, remaining: 20, resetUs: 10_000 });
    expect(o.tat).toBe(NOW);
    expect(o.newTat).toBe(NOW + 10_000);
  });

  test("cost 5 uses five emission intervals and is denied when fewer than five fit", () => {
    const first = gcraStep({ params: SEED, cost: 5 }, { storedTat: undefined, nowUs: NOW });
    expect(first.result).toEqual({ allowed: true, neverPasses: false, retryAfterUs: 0, remaining: 16, resetUs: 50_000 });
    // 170 ms of debt: 4 units fit (210 − 170 = 40 ms), 5 do not; retry when 10 ms have drained.
    const second = gcraStep({ params: SEED, cost: 5 }, { storedTat: NOW + 170_000, nowUs: NOW });
    expect(second.result).toEqual({ allowed: false, neverPasses: false, retryAfterUs: 10_000, remaining: 4, resetUs: 170_000 });
    const four = gcraStep({ params: SEED, cost: 4 }, { storedTat: NOW + 170_000, nowUs: NOW });
    expect(four.result).toEqual({ allowed: true, neverPasses: false, retryAfterUs: 0, remaining: 0, resetUs: 210_000 });
  });

  test("cost above capacity never passes: retry 0, TAT unchanged, even on a fresh key", () => {
    const o = gcraStep({ params: SEED, cost: 22 }, { storedTat: undefined, nowUs: NOW });
    expect(o.result).toEqual({ allowed: false, neverPasses: true, retryAfterUs: 0, remaining: 21, resetUs: 0 });
    expect(o.newTat).toBe(NOW);
    const exact = gcraStep({ params: SEED, cost: 21 }, { storedTat: undefined, nowUs: NOW });
    expect(exact.result.allowed).toBe(true);
    expect(exact.result.remaining).toBe(0);
  });

  test("cost 0 reads the state without consuming anything", () => {
    const o = gcraStep({ params: SEED, cost: 0 }, { storedTat: NOW + 30_000, nowUs: NOW });
    expect(o.result).toEqual({ allowed: true, neverPasses: false, retryAfterUs: 0, remaining: 18, resetUs: 30_000 });
    expect(o.newTat).toBe(NOW + 30_000);
  });

  test("a stored TAT far in the future is clamped to now + capacity", () => {
    const o = gcraStep({ params: SEED, cost: 1 }, { storedTat: NOW + 10_000_000, nowUs: NOW });
    expect(o.tat).toBe(NOW + 210_000);
    expect(o.result).toEqual({ allowed: false, neverPasses: false, retryAfterUs: 10_000, remaining: 0, resetUs: 210_000 });
  });

  test("a stored TAT in the past behaves exactly like an absent key", () => {
    const past = gcraStep({ params: SEED, cost: 3 }, { storedTat: NOW - 5_000_000, nowUs: NOW });
    const fresh = gcraStep({ params: SEED, cost: 3 }, { storedTat: undefined, nowUs: NOW });
    expect(past).toEqual(fresh);
  });

  test("remaining rounds down when the debt is not a multiple of T", () => {
    const o = gcraStep({ params: SEED, cost: 1 }, { storedTat: NOW + 15_500, nowUs: NOW });
    // newTat − now = 25.5 ms; (210 − 25.5) / 10 = 18.45 → 18.
    expect(o.result).toEqual({ allowed: true, neverPasses: false, retryAfterUs: 0, remaining: 18, resetUs: 25_500 });
  });

  test("rejects a negative or fractional cost and non-integer params with RangeError", () => {
    expect(() => gcraStep({ params: SEED, cost: -1 }, { storedTat: undefined, nowUs: NOW })).toThrow(RangeError);
    expect(() => gcraStep({ params: SEED, cost: 1.5 }, { storedTat: undefined, nowUs: NOW })).toThrow(RangeError);
    const bad = { emissionIntervalUs: 0, burstToleranceUs: 0 };
    expect(() => gcraStep({ params: bad, cost: 1 }, { storedTat: undefined, nowUs: NOW })).toThrow(RangeError);
  });
});

describe("tatTtlMs()", () => {
  test("rounds up to whole milliseconds and never goes below 1", () => {
    expect(tatTtlMs(NOW + 10_000, NOW)).toBe(10);
    expect(tatTtlMs(NOW + 10_001, NOW)).toBe(11);
    expect(tatTtlMs(NOW + 1, NOW)).toBe(1);
    expect(tatTtlMs(NOW, NOW)).toBe(1);
  });
});

describe("decide()", () => {
  test("when one of two limits denies, nothing is committed and results show the unchanged TATs", () => {
    const space = keySpace();
    space.tats.set("b", NOW + 210_000);
    const d = space.check([limit("a"), limit("b")], NOW);
    expect(d.allowed).toBe(false);
    expect(d.decidingIndex).toBe(1);
    expect(d.degraded).toBe(false);
    expect(space.writes).toEqual([]);
    expect(d.results[0]).toEqual({ allowed: true, neverPasses: false, retryAfterUs: 0, remaining: 21, resetUs: 0 });
    expect(d.results[1]).toEqual({ allowed: false, neverPasses: false, retryAfterUs: 10_000, remaining: 0, resetUs: 210_000 });
  });

  test("a denying shadow limit does not block: the enforcing limit is committed, the shadow one is not", () => {
    const space = keySpace();
    space.tats.set("shadow", NOW + 210_000);
    const d = space.check([limit("shadow", { shadow: true }), limit("enforced")], NOW);
    expect(d.allowed).toBe(true);
    expect(d.decidingIndex).toBe(1);
    expect(d.results[0].allowed).toBe(false);
    expect(d.results[0].retryAfterUs).toBe(10_000);
    expect(space.writes).toEqual(["enforced"]);
    expect(space.tats.get("enforced")).toBe(NOW + 10_000);
  });

  test("an allowing shadow limit is committed with the request", () => {
    const space = keySpace();
    space.check([limit("shadow", { shadow: true }), limit("enforced")], NOW);
    expect(space.writes).toEqual(["shadow", "enforced"]);
  });

  test("an allowing shadow limit is not committed when an enforcing limit denies", () => {
    const space = keySpace();
    space.tats.set("enforced", NOW + 210_000);
    const d = space.check([limit("shadow", { shadow: true }), limit("enforced")], NOW);
    expect(d.allowed).toBe(false);
    expect(d.decidingIndex).toBe(1);
    expect(d.results[0].remaining).toBe(21);
    expect(space.writes).toEqual([]);
  });

  test("decidingIndex is the first enforcing denial even when a later one denies too", () => {
    const space = keySpace();
    space.tats.set("x", NOW + 210_000);
    space.tats.set("y", NOW + 210_000);
    const d = space.check([limit("ok"), limit("x"), limit("y")], NOW);
    expect(d.decidingIndex).toBe(1);
  });

  test("when allowed, decidingIndex is the enforcing limit with the fewest remaining, the first on ties", () => {
    const space = keySpace();
    space.tats.set("b", NOW + 100_000);
    space.tats.set("c", NOW + 100_000);
    space.tats.set("s", NOW + 200_000);
    const d = space.check([limit("a"), limit("b"), limit("c"), limit("s", { shadow: true })], NOW);
    expect(d.allowed).toBe(true);
    expect(d.results.map((r) => r.remaining)).toEqual([20, 10, 10, 0]);
    expect(d.decidingIndex).toBe(1);
  });

  test("only shadow checks, or none at all, give an allowed decision with decidingIndex −1", () => {
    const space = keySpace();
    space.tats.set("s", NOW + 210_000);
    expect(space.check([limit("s", { shadow: true })], NOW)).toMatchObject({ allowed: true, decidingIndex: -1 });
    expect(space.check([], NOW)).toEqual({ allowed: true, decidingIndex: -1, results: [], degraded: false });
  });

  test("a neverPasses enforcing limit denies the request with retry 0", () => {
    const space = keySpace();
    const d = space.check([limit("a"), limit("big", { cost: 100 })], NOW);
    expect(d.allowed).toBe(false);
    expect(d.decidingIndex).toBe(1);
    expect(d.results[1]).toMatchObject({ neverPasses: true, retryAfterUs: 0 });
    expect(space.writes).toEqual([]);
  });

  test("reads every stored TAT before the first commit", () => {
    const order: string[] = [];
    decide([limit("a"), limit("b")], {
      nowUs: NOW,
      storedTat: (c) => {
        order.push(`read ${c.key}`);
        return undefined;
      },
      commit: (c) => {
        order.push(`write ${c.key}`);
      },
    });
    expect(order).toEqual(["read a", "read b", "write a", "write b"]);
  });
});
