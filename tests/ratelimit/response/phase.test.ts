// The two phases in memory against the formulas of src/ratelimit/response/postpaid.ts and
// lease.ts, with a clock the test moves. The same cases run against real Valkey in
// tests/ratelimit/valkey/phase-script.test.ts.
import { describe, expect, test } from "bun:test";
import { MemoryStore } from "../../../src/ratelimit/memory/store.ts";
import { MemoryPhaseStore } from "../../../src/ratelimit/response/memory-phases.ts";
import type { PhaseCheck, Settlement } from "../../../src/ratelimit/response/phase.ts";
import { postpaidAdmit, postpaidSettle } from "../../../src/ratelimit/response/postpaid.ts";

// 60 tokens a minute, burst 60: T = 1 s, capacity = 60 s.
const TOKENS = { emissionIntervalUs: 1_000_000, burstToleranceUs: 59_000_000 };
const S = 1_000_000;

function stores() {
  let nowUs = 1_000_000 * S;
  const clock = { nowUs: () => nowUs };
  const memory = new MemoryStore({ clock, seed: 1 });
  return { memory, phases: new MemoryPhaseStore({ memory, clock }), advance: (us: number) => (nowUs += us) };
}

const tokens = (estimate = 0, lease?: { max: number; ttlUs: number }): PhaseCheck => ({
  key: "rl:{k}:tokens:1", params: TOKENS, cost: estimate, shadow: false, rate: "postpaid", lease,
});
const settlement = (actual: number | undefined, estimate = 0, lease = false): Settlement => ({
  key: "rl:{k}:tokens:1", params: TOKENS, rate: "postpaid", estimate, actual, lease,
});

describe("postpaid formulas", () => {
  test("a fresh key is admitted; a key with less than one unit left is in debt until exactly tat + T − capacity", () => {
    const now = 100 * S;
    expect(postpaidAdmit(undefined, now, TOKENS, 0).result.allowed).toBe(true);
    // 59.5 units used: half a unit left → denied for half a second.
    const admit = postpaidAdmit(now + 59_500_000, now, TOKENS, 0);
    expect([admit.result.allowed, admit.result.retryAfterUs, admit.result.remaining]).toEqual([false, 500_000, 0]);
  });

  test("the response adds actual − estimate, refunds no further than a full bucket, and owes at most one burst", () => {
    const now = 100 * S;
    expect(postpaidSettle(undefined, now, TOKENS, { estimate: 0, actual: 90 })).toEqual({ tat: now + 90 * S, remaining: 0, resetUs: 90 * S, debtUnits: 30 });
    expect(postpaidSettle(now + 10 * S, now, TOKENS, { estimate: 20, actual: 0 }).tat).toBe(now);
    expect(postpaidSettle(undefined, now, TOKENS, { estimate: 0, actual: 1_000 }).tat).toBe(now + 120 * S);
  });
});

describe("MemoryPhaseStore", () => {
  test("a response pushes a key into debt: denied for exactly the debt plus one unit, then admitted", () => {
    const { phases, advance } = stores();
    expect(phases.request([tokens()], "a").allowed).toBe(true);
    expect(phases.response([settlement(90)], "a")[0]).toEqual({ released: false, remaining: 0, resetUs: 90 * S });
    const denied = phases.request([tokens()], "b");
    // tat = now + 90 s; a unit fits when tat + T − capacity ≤ now: 31 s from now.
    expect([denied.allowed, denied.results[0].retryAfterUs]).toEqual([false, 31 * S]);
    advance(31 * S - 1);
    expect(phases.request([tokens()], "c").allowed).toBe(false);
    advance(1);
    expect(phases.request([tokens()], "d").allowed).toBe(true);
  });

  test("an estimate is charged at once and the response adds only the difference", () => {
    const { phases } = stores();
    const first = phases.request([tokens(10)], "a");
    expect([first.allowed, first.results[0].remaining, first.results[0].resetUs]).toEqual([true, 50, 10 * S]);
    expect(phases.response([settlement(25, 10)], "a")[0].resetUs).toBe(25 * S);
    expect(phases.response([settlement(undefined, 10)], "a")[0].resetUs).toBe(25 * S); // unknown cost: unchanged
  });

  test("concurrency: max leases at once, the next denied with leaseDenied, a release frees one slot exactly once", () => {
    const { phases } = stores();
    const leased = tokens(0, { max: 2, ttlUs: 30 * S });
    expect(phases.request([leased], "a").results[0].inFlight).toBe(1);
    expect(phases.request([leased], "b").results[0].inFlight).toBe(2);
    const third = phases.request([leased], "c");
    expect([third.allowed, third.results[0].leaseDenied, third.results[0].retryAfterUs]).toEqual([false, true, 1_000_000]);
    expect(phases.response([settlement(1, 0, true)], "a")[0].released).toBe(true);
    expect(phases.response([settlement(1, 0, true)], "a")[0].released).toBe(false); // a second release: nothing
    expect(phases.request([leased], "c").allowed).toBe(true);
    expect(phases.request([leased], "d").allowed).toBe(false);
  });

  test("a lease whose response never comes stops counting at exactly its ttl", () => {
    const { phases, advance } = stores();
    const leased = tokens(0, { max: 1, ttlUs: 30 * S });
    expect(phases.request([leased], "lost").allowed).toBe(true);
    advance(30 * S - 1);
    expect(phases.request([leased], "b").allowed).toBe(false);
    advance(1);
    expect(phases.request([leased], "b").allowed).toBe(true);
    expect(phases.response([settlement(0, 0, true)], "lost")[0].released).toBe(false);
  });

  test("all-or-nothing: a request denied by its lease spends no budget of another limit, and one denied by a rate holds no lease", () => {
    const { memory, phases } = stores();
    const perIp: PhaseCheck = { key: "rl:{ip}:per-ip:2", params: { emissionIntervalUs: S, burstToleranceUs: S }, cost: 1, shadow: false, rate: "request", lease: undefined };
    const leased = tokens(0, { max: 1, ttlUs: 30 * S });
    expect(phases.request([perIp, leased], "a").allowed).toBe(true);
    const byLease = phases.request([perIp, leased], "b");
    expect([byLease.allowed, byLease.decidingIndex, byLease.results[0].remaining]).toEqual([false, 1, 1]);
    // per-ip still has its second unit: the denied request wrote nothing.
    expect(memory.check([perIp]).allowed).toBe(true);
    phases.response([settlement(0, 0, true)], "a");
    const byRate = phases.request([perIp, leased], "c");
    expect([byRate.allowed, byRate.decidingIndex, byRate.results[1].inFlight]).toEqual([false, 0, 0]);
    expect(phases.request([leased], "d").allowed).toBe(true); // the slot was not taken by "c"
  });

  test("an ordinary rate limit checked in a phase request shares its state with MemoryStore.check", () => {
    const { memory, phases } = stores();
    const perIp: PhaseCheck = { key: "rl:{ip}:per-ip:2", params: { emissionIntervalUs: S, burstToleranceUs: 0 }, cost: 1, shadow: false, rate: "request", lease: undefined };
    expect(memory.check([perIp]).allowed).toBe(true);
    expect(phases.request([perIp], "a").allowed).toBe(false);
  });
});

describe("LeaseTable", () => {
  test("counts exactly whether expiries come in order or not (a reload that shortened leaseTtl)", async () => {
    const { LeaseTable } = await import("../../../src/ratelimit/response/lease.ts");
    const table = new LeaseTable();
    table.add("k", "a", 100);
    table.add("k", "b", 200);
    table.add("k", "c", 50); // shorter ttl after a reload: out of order
    table.add("k", "d", 300);
    expect([table.live("k", 49), table.live("k", 50), table.live("k", 100), table.live("k", 250), table.live("k", 300)]).toEqual([4, 3, 2, 1, 0]);
    expect(table.size).toBe(0);
  });

  test("counting 100,000 live leases of one key takes no longer than counting one (expired ones come first)", async () => {
    const { LeaseTable } = await import("../../../src/ratelimit/response/lease.ts");
    const table = new LeaseTable();
    for (let i = 0; i < 100_000; i++) table.add("k", `l${i}`, 1_000 + i);
    expect(table.live("k", 500)).toBe(100_000);
    // Ordered: each count stops at the first live lease (a full scan each would be 10^10 steps).
    const start = performance.now();
    for (let i = 0; i < 100_000; i++) table.live("k", 500);
    expect(performance.now() - start).toBeLessThan(5_000);
    expect(table.live("k", 1_000 + 50_000)).toBe(49_999);
  });
});
