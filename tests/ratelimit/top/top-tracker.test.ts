// TopTracker over real store keys and decisions: denials go to the limit that decided, cost
// to every limit checked, windows rotate, and three agents' snapshots merge.
import { describe, expect, test } from "bun:test";
import { limitKey } from "../../../src/ratelimit/identity/keys.ts";
import { MemoryStore } from "../../../src/ratelimit/memory/store.ts";
import type { LimitCheck } from "../../../src/ratelimit/store.ts";
import { keyParts } from "../../../src/ratelimit/top/key-parts.ts";
import { observedStore } from "../../../src/ratelimit/top/observed-store.ts";
import { mergeSnapshots, TopTracker } from "../../../src/ratelimit/top/top-tracker.ts";

const HOUR_US = 3_600_000_000;
const login = { emissionIntervalUs: HOUR_US, burstToleranceUs: 2 * HOUR_US }; // 3 an hour
const api = { emissionIntervalUs: 1, burstToleranceUs: HOUR_US }; // plenty
const checks = (ip: string, cost = 1): LimitCheck[] => [
  { key: limitKey("rl:", ip, "api", api), params: api, cost, shadow: false },
  { key: limitKey("rl:", ip, "login", login), params: login, cost: 1, shadow: false },
];

describe("keyParts()", () => {
  test("reads identity and limit back from limitKey, escaped and IPv6 identities included", () => {
    expect(keyParts(limitKey("rl:", "203.0.113.7", "api", api))).toEqual({ identity: "203.0.113.7", limit: "api" });
    expect(keyParts(limitKey("rl:", "2001:db8::/64", "per-ip", api))).toEqual({ identity: "2001:db8::/64", limit: "per-ip" });
    expect(keyParts(limitKey("rl:", "a{b}", "x", api))?.identity).toBe("a%7Bb%7D");
    expect(keyParts("no-tag")).toBeUndefined();
  });
});

describe("TopTracker", () => {
  test("a client hammering login is the most denied on login, and the heaviest on api by cost", async () => {
    const tracker = new TopTracker({ capacity: 8 });
    const store = observedStore(new MemoryStore({ clock: { nowUs: () => 1_000_000_000_000 } }), tracker);
    for (let i = 0; i < 10; i++) await store.check(checks("198.51.100.66", 5));
    await store.check(checks("192.0.2.1"));
    const top = tracker.snapshot(1000);
    // 3 allowed, 7 denied by login (the deciding limit); api saw every request's cost.
    expect(top.limits.login.denied.entries).toEqual([{ item: "198.51.100.66", count: 7, error: 0 }]);
    expect(top.limits.api.denied.entries).toEqual([]);
    expect(top.limits.api.heaviest.entries[0]).toEqual({ item: "198.51.100.66", count: 50, error: 0 });
    expect(top.limits.api.heaviest.total).toBe(51);
  });

  test("lists cover the current and the previous window, then forget", () => {
    const tracker = new TopTracker({ capacity: 4 });
    const denied = { allowed: false, decidingIndex: 1, degraded: false, results: [] };
    tracker.observe(checks("old"), denied);
    tracker.rotate();
    tracker.observe(checks("new"), denied);
    expect(tracker.snapshot(0).limits.login.denied.entries.map((e) => e.item).sort()).toEqual(["new", "old"]);
    tracker.rotate();
    expect(tracker.snapshot(0).limits.login.denied.entries.map((e) => e.item)).toEqual(["new"]);
  });

  test("three agents' snapshots merge into one list per limit with the sum of their counts", () => {
    const denied = { allowed: false, decidingIndex: 1, degraded: false, results: [] };
    const agents = [new TopTracker(), new TopTracker(), new TopTracker()];
    agents.forEach((agent, a) => {
      for (let i = 0; i < 10 * (a + 1); i++) agent.observe(checks("203.0.113.9"), denied);
      agent.observe(checks(`10.0.0.${a}`), denied);
    });
    const merged = mergeSnapshots(agents.map((a, i) => a.snapshot(i)), 64);
    expect(merged.agents).toBe(3);
    expect(merged.atMs).toBe(2);
    expect(merged.limits.login.denied.entries[0]).toEqual({ item: "203.0.113.9", count: 60, error: 0 });
    expect(merged.limits.login.denied.entries).toHaveLength(4);
  });
});
