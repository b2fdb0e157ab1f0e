import { describe, expect, test } from "bun:test";
import { bool, compiled, int, limit, sess, str } from "./ack-fixtures.ts";
import { defaultLimit } from "../../../src/config/limits.ts";
import { ACK_VARIABLE_NAMES, ackSelection, ALL_ACK_VARIABLES, DEFAULT_ACK_VARIABLES, unknownAckVariables } from "../../../src/ratelimit/answer/ack-selection.ts";
import { createRateLimitHandler } from "../../../src/ratelimit/handler.ts";
import { DEFAULT_IDENTITY_OPTIONS } from "../../../src/ratelimit/identity/identity.ts";
import { parseIp } from "../../../src/ratelimit/identity/ip.ts";
import { MemoryStore } from "../../../src/ratelimit/memory/store.ts";
import { compilePolicies } from "../../../src/ratelimit/policy/compile.ts";
import type { Decision, LimitResult } from "../../../src/ratelimit/store.ts";
import { decisionActions, failureActions, FAILURE_ACTIONS } from "../../../src/ratelimit/answer/variables.ts";
import type { Action, Message } from "../../../src/spop/types.ts";


const allow = (remaining: number, resetUs: number): LimitResult => ({ allowed: true, neverPasses: false, retryAfterUs: 0, remaining, resetUs });
const deny = (retryAfterUs: number, resetUs: number): LimitResult => ({ allowed: false, neverPasses: false, retryAfterUs, remaining: 0, resetUs });
const names = (actions: readonly Action[]) => actions.map((a) => (a.type === "set-var" ? `${a.scope}.${a.name}` : a.type));

const one = { limits: [limit("default")].map(compiled) };
const allowed: Decision = { allowed: true, decidingIndex: 0, results: [allow(20, 10_000)], degraded: false };
const denied: Decision = { allowed: false, decidingIndex: 0, results: [deny(10_000, 210_000)], degraded: false };

describe("ackSelection", () => {
  test("the default is what the shipped HAProxy configs and the seed's deny rule read, plus degraded, ticket and deny_status", () => {
    expect([...DEFAULT_ACK_VARIABLES]).toEqual(["ip_score", "allowed", "retry_after", "degraded", "ratelimit", "ratelimit_policy", "ticket", "deny_status"]);
  });

  test("names the agent does not set are refused, with the known ones in the message", () => {
    expect(unknownAckVariables(["ip_score", "score", "allowed", "txn.allowed"])).toEqual(["score", "txn.allowed"]);
    expect(() => ackSelection(["ip_score", "score"])).toThrow(/unknown ACK variable\(s\) score .*known: ip_score, allowed/);
  });

  test("all is set only when every variable is chosen", () => {
    expect(ALL_ACK_VARIABLES.all).toBe(true);
    expect(ackSelection(ACK_VARIABLE_NAMES.slice(1)).all).toBe(false);
    expect(ackSelection(["ip_score"])).toMatchObject({ ipScore: true, allowed: false, ratelimit: false, all: false });
  });
});

describe("decisionActions with a selection", () => {
  test("ip_score alone: one variable, for an allow and for a deny", () => {
    const only = ackSelection(["ip_score"]);
    expect(decisionActions(allowed, one, only)).toEqual([sess("ip_score", 0)]);
    expect(decisionActions(denied, one, only)).toEqual([sess("ip_score", 100)]);
  });

  test("the default set: verdict, retry_after on deny, the two RateLimit fields, in ACK order", () => {
    const lean = ackSelection(DEFAULT_ACK_VARIABLES);
    expect(decisionActions(allowed, one, lean)).toEqual([
      sess("ip_score", 0),
      bool("allowed", true),
      str("ratelimit", '"default";r=20;t=1'),
      str("ratelimit_policy", '"default";q=100;w=1'),
    ]);
    expect(decisionActions(denied, one, lean)).toEqual([
      sess("ip_score", 100),
      bool("allowed", false),
      int("retry_after", 1),
      str("ratelimit", '"default";r=0;t=1'),
      str("ratelimit_policy", '"default";q=100;w=1'),
    ]);
  });

  test("degraded appears only when the failure policy decided", () => {
    const lean = ackSelection(DEFAULT_ACK_VARIABLES);
    expect(names(decisionActions({ ...allowed, degraded: true }, one, lean))).toEqual(["sess.ip_score", "txn.allowed", "txn.degraded", "txn.ratelimit", "txn.ratelimit_policy"]);
    expect(names(decisionActions(allowed, one, lean))).not.toContain("txn.degraded");
  });

  test("a selection of every name gives exactly the full ACK", () => {
    const every = ackSelection([...ACK_VARIABLE_NAMES].reverse());
    for (const d of [allowed, denied, { ...denied, degraded: true }]) {
      expect(decisionActions(d, one, every)).toEqual(decisionActions(d, one));
    }
  });

  test("the generic builder agrees with the full one when all but one variable is chosen", () => {
    const shadowed = { limits: [limit("enforced"), limit("watch", true)].map(compiled) };
    const decision: Decision = { allowed: true, decidingIndex: 0, results: [allow(5, 50_000), deny(20_000, 220_000)], degraded: true };
    for (const dropped of ACK_VARIABLE_NAMES) {
      const chosen = ackSelection(ACK_VARIABLE_NAMES.filter((n) => n !== dropped));
      const full = decisionActions(decision, shadowed).filter((a) => a.type !== "set-var" || a.name !== dropped);
      expect(decisionActions(decision, shadowed, chosen)).toEqual(full);
    }
  });

  test("no limit matched (only shadow limits): verdict and the shadow variable if chosen", () => {
    const onlyShadow = { limits: [limit("watch", true)].map(compiled) };
    const decision: Decision = { allowed: true, decidingIndex: -1, results: [deny(20_000, 220_000)], degraded: false };
    expect(names(decisionActions(decision, onlyShadow, ackSelection(["allowed", "shadow_denied"])))).toEqual(["txn.allowed", "txn.shadow_denied"]);
  });
});

describe("failureActions", () => {
  test("the failure answers keep only the chosen variables", () => {
    expect(failureActions("deny", ackSelection(["ip_score"]))).toEqual([sess("ip_score", 100)]);
    expect(names(failureActions("allow", ackSelection(DEFAULT_ACK_VARIABLES)))).toEqual(["sess.ip_score", "txn.allowed", "txn.degraded"]);
    expect(failureActions("deny")).toBe(FAILURE_ACTIONS.deny);
  });
});

describe("createRateLimitHandler with a selection", () => {
  const build = (variables: readonly string[]) =>
    createRateLimitHandler({
      policies: compilePolicies([defaultLimit({ intervalUs: 10_000, burstUs: 0, messages: ["check-rate"] })], { keyPrefix: "rl:" }),
      identity: DEFAULT_IDENTITY_OPTIONS,
      store: new MemoryStore({ clock: { nowUs: () => 1_000_000_000 }, seed: 1 }),
      failure: "deny",
      variables: ackSelection(variables),
    });
  const request: Message = { name: "check-rate", args: [{ name: "ip_src", kind: "ipv4", value: parseIp("192.0.2.1") as number }] };
  const context = { streamId: 1, frameId: 1, connectionId: 1 };

  test("ACKs carry only the chosen variables, allowed and denied", () => {
    const handler = build(["ip_score"]);
    expect(handler.handle([request], context)).toEqual([sess("ip_score", 0)]);
    expect(handler.handle([request], context)).toEqual([sess("ip_score", 100)]); // burst 0: the second is denied
  });

  test("the handler's failure answer keeps only the chosen variables too", () => {
    expect(build(["ip_score", "retry_after"]).failureActions(new Error("x"), [request])).toEqual([sess("ip_score", 100), int("retry_after", 1)]);
  });
});
