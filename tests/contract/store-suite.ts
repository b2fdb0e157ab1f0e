/**
 * Behaviour every LimiterStore must have, run against each implementation (memory, Valkey).
 * Works on a real clock: T = 60 s and τ = 4T, so the milliseconds a test takes cannot change a
 * decision, and time-derived values are checked within `slackUs`. Every test uses its own key
 * prefix, so stores are shared across tests and runs without interference.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { limitKey } from "../../src/ratelimit/identity/keys.ts";
import type { Decision, GcraParams, LimitCheck, LimiterStore } from "../../src/ratelimit/store.ts";

/** How the suite obtains a store. */
export interface StoreSuiteSetup {
  create(): Promise<{ store: LimiterStore; cleanup(): Promise<void> }>;
  /** Allowed drift of time-derived values (retry-after, reset); default 50 ms. */
  readonly slackUs?: number;
}

const T = 60_000_000;
/** Burst 5: a fresh key admits five unit requests. */
const BURST5: GcraParams = { emissionIntervalUs: T, burstToleranceUs: 4 * T };
/** Burst 1: one request per minute. */
const BURST1: GcraParams = { emissionIntervalUs: T, burstToleranceUs: 0 };

/** Runs the shared store behaviour suite under `describe(name)`. */
export function runStoreSuite(name: string, setup: StoreSuiteSetup): void {
  const slack = setup.slackUs ?? 50_000;
  const run = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e9).toString(36)}`;
  let serial = 0;
  let store: LimiterStore;
  let cleanup: () => Promise<void> = async () => {};

  /** Limit checks for one fresh identity, unique to this test and run. */
  function identity() {
    const prefix = `contract:${run}:${serial++}:`;
    return (limit: string, params: GcraParams, options: { cost?: number; shadow?: boolean } = {}): LimitCheck => ({
      key: limitKey(prefix, "198.51.100.7", limit, params),
      params,
      cost: options.cost ?? 1,
      shadow: options.shadow ?? false,
    });
  }

  const check = async (checks: readonly LimitCheck[]): Promise<Decision> => await store.check(checks);
  const expectNear = (actual: number, expected: number) => {
    expect(actual).toBeLessThanOrEqual(expected);
    expect(actual).toBeGreaterThanOrEqual(expected - slack);
  };

  describe(name, () => {
    beforeAll(async () => {
      const created = await setup.create();
      store = created.store;
      cleanup = created.cleanup;
    });
    afterAll(async () => {
      await cleanup();
    });

    test("admits a burst of τ/T + 1, then denies with retry-after ≈ T and not degraded", async () => {
      const limit = identity()("burst", BURST5);
      for (let k = 1; k <= 5; k++) {
        const d = await check([limit]);
        expect(d).toMatchObject({ allowed: true, decidingIndex: 0, degraded: false });
        expect(d.results[0].remaining).toBe(5 - k);
        expectNear(d.results[0].resetUs, k * T);
      }
      const denied = await check([limit]);
      expect(denied).toMatchObject({ allowed: false, decidingIndex: 0, degraded: false });
      expect(denied.results[0]).toMatchObject({ allowed: false, neverPasses: false, remaining: 0 });
      expectNear(denied.results[0].retryAfterUs, T);
      expectNear(denied.results[0].resetUs, 5 * T);
    });

    test("a fresh key reports remaining τ/T and reset exactly T after one unit request", async () => {
      const d = await check([identity()("fresh", BURST5)]);
      expect(d.results[0]).toEqual({ allowed: true, neverPasses: false, retryAfterUs: 0, remaining: 4, resetUs: T });
    });

    test("denials do not move the TAT: a repeated denial does not push retry-after later", async () => {
      const limit = identity()("repeat", BURST1);
      await check([limit]);
      const first = await check([limit]);
      const second = await check([limit]);
      expect(first.allowed || second.allowed).toBe(false);
      expect(second.results[0].retryAfterUs).toBeLessThanOrEqual(first.results[0].retryAfterUs);
      expectNear(second.results[0].retryAfterUs, T);
    });

    test("a cost of 3 takes three intervals; a second cost 3 is denied while a cost 2 still fits", async () => {
      const make = identity();
      const first = await check([make("cost", BURST5, { cost: 3 })]);
      expect(first.results[0]).toEqual({ allowed: true, neverPasses: false, retryAfterUs: 0, remaining: 2, resetUs: 3 * T });
      const denied = await check([make("cost", BURST5, { cost: 3 })]);
      expect(denied.allowed).toBe(false);
      expect(denied.results[0].remaining).toBe(2);
      expectNear(denied.results[0].retryAfterUs, T);
      const two = await check([make("cost", BURST5, { cost: 2 })]);
      expect(two.allowed).toBe(true);
      expect(two.results[0].remaining).toBe(0);
    });

    test("a cost above τ + T never passes: retry 0, nothing written", async () => {
      const make = identity();
      const d = await check([make("huge", BURST5, { cost: 6 })]);
      expect(d.allowed).toBe(false);
      expect(d.results[0]).toEqual({ allowed: false, neverPasses: true, retryAfterUs: 0, remaining: 5, resetUs: 0 });
      const after = await check([make("huge", BURST5)]);
      expect(after.results[0].remaining).toBe(4);
    });

    test("cost 0 reports the state without consuming", async () => {
      const make = identity();
      await check([make("peek", BURST5)]);
      const peek = await check([make("peek", BURST5, { cost: 0 })]);
      expect(peek.allowed).toBe(true);
      expect(peek.results[0].remaining).toBe(4);
      expectNear(peek.results[0].resetUs, T);
      expect((await check([make("peek", BURST5)])).results[0].remaining).toBe(3);
    });

    test("a multi-limit request denied by one limit commits none: results show the unchanged state", async () => {
      const make = identity();
      expect((await check([make("a", BURST5), make("b", BURST1)])).allowed).toBe(true);
      const denied = await check([make("a", BURST5), make("b", BURST1)]);
      expect(denied.allowed).toBe(false);
      expect(denied.decidingIndex).toBe(1);
      expect(denied.results[0]).toMatchObject({ allowed: true, retryAfterUs: 0, remaining: 4 });
      expectNear(denied.results[0].resetUs, T);
      expectNear(denied.results[1].retryAfterUs, T);
      expect((await check([make("a", BURST5)])).results[0].remaining).toBe(3);
    });

    test("a denying shadow limit never blocks; the enforcing limit is committed, the shadow one only when it allows", async () => {
      const make = identity();
      const first = await check([make("s", BURST1, { shadow: true }), make("e", BURST5)]);
      expect(first).toMatchObject({ allowed: true, decidingIndex: 1 });
      expect(first.results[0].remaining).toBe(0); // the allowing shadow limit was committed
      const second = await check([make("s", BURST1, { shadow: true }), make("e", BURST5)]);
      expect(second).toMatchObject({ allowed: true, decidingIndex: 1 });
      expect(second.results[0].allowed).toBe(false);
      expectNear(second.results[0].retryAfterUs, T);
      expect(second.results[1].remaining).toBe(3);
    });

    test("an allowing shadow limit is not committed when an enforcing limit denies", async () => {
      const make = identity();
      await check([make("e", BURST1)]);
      const denied = await check([make("s", BURST5, { shadow: true }), make("e", BURST1)]);
      expect(denied).toMatchObject({ allowed: false, decidingIndex: 1 });
      expect(denied.results[0]).toMatchObject({ allowed: true, remaining: 5, resetUs: 0 });
      expect((await check([make("s", BURST5)])).results[0].remaining).toBe(4);
    });

    test("decidingIndex: the first enforcing denial; else the fewest remaining, first on ties; −1 without enforcing limits", async () => {
      const make = identity();
      const allowed = await check([make("a", BURST5), make("b", BURST1), make("c", BURST1), make("s", BURST1, { shadow: true })]);
      expect(allowed).toMatchObject({ allowed: true, decidingIndex: 1 });
      expect(allowed.results.map((r) => r.remaining)).toEqual([4, 0, 0, 0]);
      const denied = await check([make("a", BURST5), make("b", BURST1), make("c", BURST1)]);
      expect(denied).toMatchObject({ allowed: false, decidingIndex: 1 });
      const ties = await check([make("x", BURST5), make("y", BURST5)]);
      expect(ties.decidingIndex).toBe(0);
      const shadowOnly = await check([make("c", BURST1, { shadow: true })]);
      expect(shadowOnly).toMatchObject({ allowed: true, decidingIndex: -1 });
      expect(shadowOnly.results[0].allowed).toBe(false);
    });

    test("a request with no checks is allowed with decidingIndex −1 and no results", async () => {
      expect(await check([])).toEqual({ allowed: true, decidingIndex: -1, results: [], degraded: false });
    });
  });
}
