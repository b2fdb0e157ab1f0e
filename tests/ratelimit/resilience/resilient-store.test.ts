import { describe, expect, test } from "bun:test";
import { DenyCache } from "../../../src/ratelimit/resilience/deny-cache.ts";
import { MemoryStore } from "../../../src/ratelimit/memory/store.ts";
import { ResilientStore, type StoreEvent } from "../../../src/ratelimit/resilience/resilient-store.ts";
import type { Decision, GcraParams, LimitCheck, LimiterStore } from "../../../src/ratelimit/store.ts";

const P: GcraParams = { emissionIntervalUs: 1_000_000, burstToleranceUs: 2_000_000 };
const checks: LimitCheck[] = [
  { key: "{a}:x", params: P, cost: 1, shadow: false },
  { key: "{a}:y", params: P, cost: 1, shadow: true },
];
const allowed: Decision = {
  allowed: true,
  decidingIndex: 0,
  results: checks.map(() => ({ allowed: true, neverPasses: false, retryAfterUs: 0, remaining: 2, resetUs: 1_000_000 })),
  degraded: false,
};
const denied: Decision = {
  allowed: false,
  decidingIndex: 0,
  results: [
    { allowed: false, neverPasses: false, retryAfterUs: 700_000, remaining: 0, resetUs: 2_700_000 },
    { allowed: true, neverPasses: false, retryAfterUs: 0, remaining: 2, resetUs: 0 },
  ],
  degraded: false,
};

/** A fake clock driven by `advanceMs`, and a primary whose answers the test controls. */
function harness(policy: "local" | "allow" | "deny", answer: () => Decision | Promise<Decision>, withCache = false) {
  let now = 1_000_000_000;
  const clock = { nowUs: () => now };
  let calls = 0;
  const primary: LimiterStore = { check: () => (calls++, answer()), close: async () => {} };
  const events: StoreEvent[] = [];
  const denyCache = withCache ? new DenyCache({}) : undefined;
  const store = new ResilientStore({
    primary,
    fallback: new MemoryStore({ clock }),
    policy,
    clock,
    breaker: { failureThreshold: 2, initialBackoffMs: 100 },
    denyCache,
    onEvent: (e) => events.push(e),
  });
  const advanceMs = (ms: number) => {
    now += ms * 1000;
  };
  return { store, events, advanceMs, calls: () => calls };
}

describe("ResilientStore", () => {
  test("passes a primary decision through undegraded", async () => {
    const { store } = harness("deny", () => Promise.resolve(allowed));
    expect(await store.check(checks)).toEqual(allowed);
  });

  test("on a primary error the deny policy denies every enforcing check, degraded", async () => {
    const { store, events } = harness("deny", () => Promise.reject(new Error("boom")));
    const d = await store.check(checks);
    expect(d.allowed).toBe(false);
    expect(d.degraded).toBe(true);
    expect(d.results[0].allowed).toBe(false);
    expect(d.results[1].allowed).toBe(true);
    expect(events).toContainEqual({ kind: "degraded", reason: "error" });
  });

  test("past the primary's deadline (a rejection with code timeout) the allow policy answers, degraded, with reason timeout", async () => {
    const error = Object.assign(new Error("late"), { code: "timeout" });
    const { store, events } = harness("allow", () => Promise.reject(error));
    const d = await store.check(checks);
    expect(d).toMatchObject({ allowed: true, degraded: true, decidingIndex: 0 });
    expect(events).toContainEqual({ kind: "degraded", reason: "timeout" });
  });

  test("the local policy decides with the fallback MemoryStore (burst 3, then denied)", async () => {
    const { store } = harness("local", () => Promise.reject(new Error("down")));
    const ds: Decision[] = [];
    for (let i = 0; i < 4; i++) ds.push(await store.check(checks));
    expect(ds.map((d) => d.allowed)).toEqual([true, true, true, false]);
    expect(ds.every((d) => d.degraded)).toBe(true);
  });

  test("the breaker opens after consecutive failures: the policy answers without calling the primary", async () => {
    const { store, events, advanceMs, calls } = harness("allow", () => Promise.reject(new Error("down")));
    await store.check(checks);
    await store.check(checks);
    expect(store.breakerState).toBe("open");
    const d = await store.check(checks);
    expect(d.degraded).toBe(true);
    expect(calls()).toBe(2);
    expect(events).toContainEqual({ kind: "degraded", reason: "breaker-open" });
    advanceMs(100);
    expect(store.breakerState).toBe("half-open");
  });

  test("a successful half-open probe closes the breaker", async () => {
    let fail = true;
    const { store, events, advanceMs } = harness("allow", () => (fail ? Promise.reject(new Error("down")) : Promise.resolve(allowed)));
    await store.check(checks);
    await store.check(checks);
    advanceMs(100);
    fail = false;
    expect(await store.check(checks)).toEqual(allowed);
    expect(store.breakerState).toBe("closed");
    expect(events.filter((e) => e.kind === "breaker")).toEqual([
      { kind: "breaker", state: "open", node: "", nodeState: "open" },
      { kind: "breaker", state: "half-open", node: "", nodeState: "half-open" },
      { kind: "breaker", state: "closed", node: "", nodeState: "closed" },
    ]);
  });

  test("a primary denial is remembered: the same key is denied synchronously from the deny cache", async () => {
    const { store, events, advanceMs, calls } = harness("allow", () => Promise.resolve(denied), true);
    expect(await store.check(checks)).toEqual(denied);
    const cached = store.check(checks);
    expect(cached).not.toBeInstanceOf(Promise);
    expect(cached).toMatchObject({ allowed: false, decidingIndex: 0, degraded: false });
    expect((cached as Decision).results[0].retryAfterUs).toBe(700_000);
    expect(calls()).toBe(1);
    expect(events).toContainEqual({ kind: "deny-cache-hit" });
    advanceMs(700);
    await store.check(checks);
    expect(calls()).toBe(2);
  });

  test("a cached denial ends retry-after from when the request was sent, not when the reply came", async () => {
    let reply: (d: Decision) => void = () => {};
    const { store, advanceMs, calls } = harness("allow", () => new Promise<Decision>((r) => (reply = r)), true);
    const first = store.check(checks);
    advanceMs(5); // the reply takes 5 ms; the store evaluated somewhere within them
    reply(denied);
    await first;
    advanceMs(694); // 699 ms after sending: still inside the 700 ms retry-after
    expect(store.check(checks)).not.toBeInstanceOf(Promise);
    advanceMs(1); // 700 ms after sending: the key may pass again, so the primary is asked
    void store.check(checks);
    expect(calls()).toBe(2);
  });

  test("clearDenyCache() forgets remembered denials", async () => {
    const { store, calls } = harness("allow", () => Promise.resolve(denied), true);
    await store.check(checks);
    store.clearDenyCache();
    await store.check(checks);
    expect(calls()).toBe(2);
  });
});

describe("ResilientStore breakers", () => {
  /** A primary whose keys live on node "a" or "b" (the text before ":"), failing on the nodes in `down`. */
  function twoNodes() {
    let now = 1_000_000_000;
    const clock = { nowUs: () => now };
    const down = new Set<string>();
    const asked: string[] = [];
    const nodeOf = (cs: readonly LimitCheck[]) => cs[0].key.slice(0, cs[0].key.indexOf(":"));
    const primary = {
      check: (cs: readonly LimitCheck[]) => {
        asked.push(nodeOf(cs));
        return down.has(nodeOf(cs)) ? Promise.reject(Object.assign(new Error("refused"), { code: "unavailable" })) : Promise.resolve(allowed);
      },
      nodeOf,
      close: async () => {},
    };
    const events: StoreEvent[] = [];
    const store = new ResilientStore({ primary, fallback: new MemoryStore({ clock }), policy: "allow", clock, breaker: { failureThreshold: 3 }, onEvent: (e) => events.push(e) });
    const on = (node: string): LimitCheck[] => [{ key: `${node}:k`, params: P, cost: 1, shadow: false }];
    return { store, down, asked, events, on, advanceMs: (ms: number) => (now += ms * 1000) };
  }

  test("one dead node opens only its breaker: keys on the other node keep deciding on the store", async () => {
    const { store, down, asked, events, on } = twoNodes();
    down.add("b");
    for (let i = 0; i < 3; i++) await store.check(on("b"));
    asked.length = 0;
    expect((await store.check(on("b"))).degraded).toBe(true);
    expect(await store.check(on("a"))).toEqual(allowed);
    expect(asked).toEqual(["a"]);
    expect(store.breakerState).toBe("open");
    expect(store.nodesNotClosed()).toEqual(["b"]);
    expect(events.filter((e) => e.kind === "breaker")).toEqual([{ kind: "breaker", state: "open", node: "b", nodeState: "open" }]);
  });

  test("a node that comes back closes its breaker after the backoff", async () => {
    const { store, down, on, advanceMs } = twoNodes();
    down.add("b");
    for (let i = 0; i < 3; i++) await store.check(on("b"));
    down.delete("b");
    advanceMs(250);
    expect(await store.check(on("b"))).toEqual(allowed);
    expect(store.breakerState).toBe("closed");
  });

  /** A primary that misses the deadline of every `missEvery`-th call and answers the others. */
  function missing(missEvery: number) {
    let now = 1_000_000_000;
    const clock = { nowUs: () => now };
    let n = 0;
    const primary: LimiterStore = {
      check: () => (++n % missEvery === 0 ? Promise.reject(Object.assign(new Error("deadline"), { code: "timeout" })) : Promise.resolve(allowed)),
      close: async () => {},
    };
    const store = new ResilientStore({ primary, fallback: new MemoryStore({ clock }), policy: "allow", clock });
    return { store, advanceMs: (ms: number) => (now += ms * 1000) };
  }

  test("a few deadline misses under load (1 in 20) never open the breaker: only those few are degraded", async () => {
    const { store, advanceMs } = missing(20);
    let degraded = 0;
    for (let ms = 0; ms < 1500; ms++) {
      for (let i = 0; i < 4; i++) if ((await store.check(checks)).degraded) degraded++;
      advanceMs(1);
    }
    expect(store.breakerState).toBe("closed");
    expect(degraded).toBe(300);
  });

  test("a store that misses every deadline opens the breaker", async () => {
    const { store, advanceMs } = missing(1);
    for (let ms = 0; ms < 600 && store.breakerState === "closed"; ms++) {
      await store.check(checks);
      advanceMs(1);
    }
    expect(store.breakerState).toBe("open");
  });
});
