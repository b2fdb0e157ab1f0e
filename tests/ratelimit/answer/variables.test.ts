import { describe, expect, test } from "bun:test";
import { bool, compiled, int, limit, sess, str } from "./ack-fixtures.ts";
import type { Decision, LimitResult } from "../../../src/ratelimit/store.ts";
import { decisionActions, FAILURE_ACTIONS, retryAfterSeconds, shadowDenials } from "../../../src/ratelimit/answer/variables.ts";
import type { Action } from "../../../src/spop/types.ts";
import { AGENT_VARIABLES } from "../../../src/ratelimit/answer/variable-names.ts";


const allow = (remaining: number, resetUs: number): LimitResult => ({
  allowed: true,
  neverPasses: false,
  retryAfterUs: 0,
  remaining,
  resetUs,
});
const deny = (retryAfterUs: number, resetUs: number, neverPasses = false): LimitResult => ({
  allowed: false,
  neverPasses,
  retryAfterUs,
  remaining: 0,
  resetUs,
});


// Compiled once, like the policies of one configuration: its constant actions are shared.
const one = [limit("default")].map(compiled);

describe("decisionActions", () => {
  test("an allow sets ip_score 0 first, then allowed and the counters", () => {
    const decision: Decision = { allowed: true, decidingIndex: 0, results: [allow(20, 10_000)], degraded: false };
    expect(decisionActions(decision, { limits: one })).toEqual([
      sess("ip_score", 0),
      bool("allowed", true),
      int("limit", 100),
      int("remaining", 20),
      int("reset", 1),
      str("policy", "default"),
      str("ratelimit", '"default";r=20;t=1'),
      str("ratelimit_policy", '"default";q=100;w=1'),
    ]);
  });

  test("a deny sets ip_score 100 and retry_after rounded up right after allowed", () => {
    const decision: Decision = { allowed: false, decidingIndex: 0, results: [deny(10_000, 210_000)], degraded: false };
    expect(decisionActions(decision, { limits: one })).toEqual([
      sess("ip_score", 100),
      bool("allowed", false),
      int("retry_after", 1),
      int("limit", 100),
      int("remaining", 0),
      int("reset", 1),
      str("policy", "default"),
      str("ratelimit", '"default";r=0;t=1'),
      str("ratelimit_policy", '"default";q=100;w=1'),
    ]);
  });

  test("a degraded decision adds degraded=1 after policy", () => {
    const decision: Decision = { allowed: true, decidingIndex: 0, results: [allow(5, 2_500_000)], degraded: true };
    const actions = decisionActions(decision, { limits: one });
    expect(actions.map((a) => a.name)).toEqual([
      "ip_score", "allowed", "limit", "remaining", "reset", "policy", "degraded", "ratelimit", "ratelimit_policy",
    ]);
    expect(actions[6]).toEqual(int("degraded", 1));
    expect(actions[4]).toEqual(int("reset", 3));
  });

  test("a request that can never pass gets the deciding limit's period as retry_after", () => {
    const limits = [limit("big", false, 10, 60)];
    const decision: Decision = { allowed: false, decidingIndex: 0, results: [deny(0, 0, true)], degraded: false };
    const actions = decisionActions(decision, { limits: limits.map(compiled) });
    expect(actions[2]).toEqual(int("retry_after", 60));
  });

  test("retry_after is at least 1 and always whole seconds rounded up", () => {
    expect(retryAfterSeconds(deny(1, 0), limit("a"))).toBe(1);
    expect(retryAfterSeconds(deny(0, 0), limit("a"))).toBe(1);
    expect(retryAfterSeconds(deny(1_000_001, 0), limit("a"))).toBe(2);
    expect(retryAfterSeconds(deny(0, 0, true), limit("a", false, 1, 0.2))).toBe(1);
  });

  test("a shadow denial never denies, is named, and is left out of RateLimit-Policy", () => {
    const limits = [limit("enforced"), limit("watch", true)];
    const decision: Decision = {
      allowed: true,
      decidingIndex: 0,
      results: [allow(7, 1_000), deny(50_000, 900_000)],
      degraded: false,
    };
    expect(decisionActions(decision, { limits: limits.map(compiled) })).toEqual([
      sess("ip_score", 0),
      bool("allowed", true),
      int("limit", 100),
      int("remaining", 7),
      int("reset", 1),
      str("policy", "enforced"),
      str("ratelimit", '"enforced";r=7;t=1'),
      str("ratelimit_policy", '"enforced";q=100;w=1'),
      str("shadow_denied", "watch"),
    ]);
    expect(shadowDenials(decision, limits)).toEqual(["watch"]);
  });

  test("only shadow limits: allowed, no deciding limit, no policy header", () => {
    const limits = [limit("watch", true)];
    const decision: Decision = { allowed: true, decidingIndex: -1, results: [deny(1, 1)], degraded: false };
    expect(decisionActions(decision, { limits: limits.map(compiled) })).toEqual([
      sess("ip_score", 0),
      bool("allowed", true),
      str("shadow_denied", "watch"),
    ]);
  });

  test("several enforcing limits are all listed in RateLimit-Policy", () => {
    const limits = [limit("a"), limit("b", false, 1000, 3600)];
    const decision: Decision = { allowed: true, decidingIndex: 1, results: [allow(20, 1), allow(3, 4_000_000)], degraded: false };
    const actions = decisionActions(decision, { limits: limits.map(compiled) });
    expect(actions.at(-1)).toEqual(str("ratelimit_policy", '"a";q=100;w=1, "b";q=1000;w=3600'));
    expect(actions.at(-2)).toEqual(str("ratelimit", '"b";r=3;t=4'));
  });

  test("every variable an ACK sets is in AGENT_VARIABLES (the list the config checks), and every listed one is set", () => {
    const limits = [limit("enforced"), limit("watch", true)];
    const decision: Decision = { allowed: false, decidingIndex: 0, results: [deny(1, 1), deny(1, 1)], degraded: true };
    const set = new Set<string>();
    for (const action of [...decisionActions(decision, { limits: limits.map(compiled) }), ...FAILURE_ACTIONS.deny]) {
      if (action.type === "set-var") set.add(`${action.scope}.${action.name}`);
    }
    // ticket and deny_status come from the response phase's handler (tests/ratelimit/response/phase-handler.test.ts).
    const phaseOnly = new Set(["ticket", "deny_status"]);
    expect([...set].sort()).toEqual(AGENT_VARIABLES.filter((v) => !phaseOnly.has(v.name)).map((v) => `${v.scope}.${v.name}`).sort());
  });

  test("variable names only use [A-Za-z0-9_.]", () => {
    const decision: Decision = { allowed: false, decidingIndex: 0, results: [deny(1, 1)], degraded: true };
    for (const action of decisionActions(decision, { limits: one })) {
      expect(action.name).toMatch(/^[A-Za-z0-9_.]+$/);
    }
  });

  test("per-limit actions are shared between decisions while the per-request values change", () => {
    const a = decisionActions({ allowed: true, decidingIndex: 0, results: [allow(20, 10_000)], degraded: false }, { limits: one });
    const b = decisionActions({ allowed: true, decidingIndex: 0, results: [allow(7, 2_500_000)], degraded: false }, { limits: one });
    const byName = (actions: Action[], name: string) => actions.find((x) => x.name === name);
    for (const name of ["limit", "policy", "ratelimit_policy"]) expect(byName(a, name)).toBe(byName(b, name) as Action);
    expect(byName(b, "remaining")).toEqual(int("remaining", 7));
    expect(byName(b, "reset")).toEqual(int("reset", 3));
    expect(byName(b, "ratelimit")).toEqual(str("ratelimit", '"default";r=7;t=3'));
  });

  test("a reloaded limit with the same name gets its own count and policy item", () => {
    const before = decisionActions({ allowed: true, decidingIndex: 0, results: [allow(1, 1)], degraded: false }, { limits: one });
    const reloaded = [limit("default", false, 50)].map(compiled);
    const after = decisionActions({ allowed: true, decidingIndex: 0, results: [allow(1, 1)], degraded: false }, { limits: reloaded });
    expect(before).toContainEqual(int("limit", 100));
    expect(after).toContainEqual(int("limit", 50));
    expect(after).toContainEqual(str("ratelimit_policy", '"default";q=50;w=1'));
  });
});

describe("FAILURE_ACTIONS", () => {
  test("allow: ip_score 0, allowed, degraded", () => {
    expect(FAILURE_ACTIONS.allow).toEqual([sess("ip_score", 0), bool("allowed", true), int("degraded", 1)]);
  });

  test("deny: ip_score 100, not allowed, retry_after 1, degraded", () => {
    expect(FAILURE_ACTIONS.deny).toEqual([
      sess("ip_score", 100),
      bool("allowed", false),
      int("retry_after", 1),
      int("degraded", 1),
    ]);
  });
});
