import { describe, expect, test } from "bun:test";
import { defaultLimit } from "../../src/config/limits.ts";
import { createRateLimitHandler, type DecisionInfo } from "../../src/ratelimit/handler.ts";
import { DEFAULT_IDENTITY_OPTIONS } from "../../src/ratelimit/identity/identity.ts";
import { parseIp } from "../../src/ratelimit/identity/ip.ts";
import { MemoryStore } from "../../src/ratelimit/memory/store.ts";
import { compilePolicies } from "../../src/ratelimit/policy/compile.ts";
import type { LimitDefinition } from "../../src/ratelimit/policy/types.ts";
import type { Decision, LimitCheck, LimiterStore } from "../../src/ratelimit/store.ts";
import type { Action, Message } from "../../src/spop/types.ts";

const CONTEXT = { streamId: 1, frameId: 1, connectionId: 1 };
// The issue-2 limit built from the seed env vars SPOA_RATE_INTERVAL=10000, SPOA_RATE_BURST=200000.
const SEED = defaultLimit({ intervalUs: 10_000, burstUs: 200_000, messages: ["check-rate"] });

function fixture(limits: readonly LimitDefinition[] = [SEED]) {
  let now = 1_000_000_000;
  const clock = { nowUs: () => now };
  const store = new MemoryStore({ clock, seed: 1 });
  const policies = compilePolicies(limits, { keyPrefix: "rl:" });
  const decisions: DecisionInfo[] = [];
  const handler = createRateLimitHandler({
    policies,
    identity: DEFAULT_IDENTITY_OPTIONS,
    store,
    failure: "deny",
    onDecision: (info) => decisions.push(info),
  });
  return { handler, store, decisions, advance: (us: number) => (now += us) };
}

const request = (src: string, name = "check-rate"): Message => ({
  name,
  args: [{ name: "ip_src", kind: "ipv4", value: parseIp(src) as number }],
});

function varOf(actions: readonly Action[], name: string): unknown {
  const action = actions.find((a) => a.name === name);
  return action?.type === "set-var" && "value" in action.value ? action.value.value : undefined;
}

function syncActions(result: unknown): readonly Action[] {
  if (!Array.isArray(result)) throw new Error("expected a synchronous array");
  return result;
}

describe("createRateLimitHandler with the memory store", () => {
  test("answers synchronously with an array, not a promise", () => {
    const { handler } = fixture();
    const result = handler.handle([request("192.0.2.1")], CONTEXT);
    expect(Array.isArray(result)).toBe(true);
    expect(result instanceof Promise).toBe(false);
  });

  test("the seed numbers allow 21 requests at once, then deny with retry_after 1", () => {
    const { handler } = fixture();
    for (let i = 0; i < 21; i++) {
      const actions = syncActions(handler.handle([request("192.0.2.1")], CONTEXT));
      expect(varOf(actions, "ip_score")).toBe(0);
      expect(varOf(actions, "remaining")).toBe(20 - i);
    }
    const denied = syncActions(handler.handle([request("192.0.2.1")], CONTEXT));
    expect(denied[0]).toEqual({ type: "set-var", scope: "sess", name: "ip_score", value: { kind: "int32", value: 100 } });
    expect(varOf(denied, "allowed")).toBe(false);
    expect(varOf(denied, "retry_after")).toBe(1);
    expect(varOf(denied, "policy")).toBe("default");
    expect(varOf(denied, "ratelimit_policy")).toBe('"default";q=100;w=1');
  });

  test("a denied client passes again after one emission interval", () => {
    const { handler, advance } = fixture();
    for (let i = 0; i < 22; i++) handler.handle([request("192.0.2.1")], CONTEXT);
    advance(10_000);
    expect(varOf(syncActions(handler.handle([request("192.0.2.1")], CONTEXT)), "ip_score")).toBe(0);
  });

  test("a second identity is unaffected by the first one's denial", () => {
    const { handler } = fixture();
    for (let i = 0; i < 30; i++) handler.handle([request("192.0.2.1")], CONTEXT);
    const other = syncActions(handler.handle([request("192.0.2.2")], CONTEXT));
    expect(varOf(other, "ip_score")).toBe(0);
    expect(varOf(other, "remaining")).toBe(20);
  });

  test("a message no limit listens to gets no actions", () => {
    const { handler, decisions } = fixture();
    expect(handler.handle([request("192.0.2.1", "other")], CONTEXT)).toEqual([]);
    expect(decisions).toEqual([]);
  });

  test("several messages of one NOTIFY are decided in order", () => {
    const { handler } = fixture();
    const actions = syncActions(handler.handle([request("192.0.2.1", "other"), request("192.0.2.1")], CONTEXT));
    expect(varOf(actions, "remaining")).toBe(20);
  });

  test("onDecision reports limits, the decider and shadow denials", () => {
    const watch: LimitDefinition = { ...SEED, name: "watch", shadow: true, params: { emissionIntervalUs: 10_000, burstToleranceUs: 0 } };
    const { handler, decisions } = fixture([SEED, watch]);
    handler.handle([request("192.0.2.1")], CONTEXT);
    const actions = syncActions(handler.handle([request("192.0.2.1")], CONTEXT));
    expect(varOf(actions, "ip_score")).toBe(0);
    expect(varOf(actions, "shadow_denied")).toBe("watch");
    const last = decisions.at(-1)!;
    expect(last).toMatchObject({
      message: "check-rate",
      identity: "192.0.2.1",
      allowed: true,
      degraded: false,
      decidingLimit: "default",
      shadowDenied: ["watch"],
    });
    expect(last.limits.map((l) => l.name)).toEqual(["default", "watch"]);
  });
});

/** A store whose answers are released by the test. */
function deferredStore(inner: LimiterStore) {
  const waiting: (() => void)[] = [];
  const store: LimiterStore = {
    check(checks: readonly LimitCheck[]): Promise<Decision> {
      return new Promise((resolve) => waiting.push(() => resolve(inner.check(checks) as Decision)));
    },
    close: () => Promise.resolve(),
  };
  return { store, release: () => waiting.splice(0).forEach((f) => f()) };
}

describe("createRateLimitHandler with an asynchronous store", () => {
  const memory = () => new MemoryStore({ clock: { nowUs: () => 5_000_000 }, seed: 2 });

  test("returns a promise of the actions", async () => {
    const { store, release } = deferredStore(memory());
    const handler = createRateLimitHandler({
      policies: compilePolicies([SEED], { keyPrefix: "" }),
      identity: DEFAULT_IDENTITY_OPTIONS,
      store,
      failure: "allow",
    });
    const result = handler.handle([request("192.0.2.1")], CONTEXT);
    expect(Array.isArray(result)).toBe(false);
    release();
    expect(varOf(await result, "remaining")).toBe(20);
  });

  test("reports how long the store took by the injected clock, for sync and async answers", async () => {
    let nowUs = 1_000;
    const clock = { nowUs: () => nowUs };
    const inner = memory();
    // A store whose answer takes 250 µs of the handler's clock, synchronously or not.
    const slowSync: LimiterStore = { check: (checks) => ((nowUs += 250), inner.check(checks)), close: () => Promise.resolve() };
    const { store: slowAsync, release } = deferredStore(inner);
    const decisions: DecisionInfo[] = [];
    const options = { policies: compilePolicies([SEED], { keyPrefix: "" }), identity: DEFAULT_IDENTITY_OPTIONS, failure: "allow" as const, clock, onDecision: (d: DecisionInfo) => decisions.push(d) };
    createRateLimitHandler({ ...options, store: slowSync }).handle([request("192.0.2.1")], CONTEXT);
    const pending = createRateLimitHandler({ ...options, store: slowAsync }).handle([request("192.0.2.2")], CONTEXT);
    nowUs += 700;
    release();
    await pending;
    expect(decisions.map((d) => d.storeUs)).toEqual([250, 700]);
  });

  test("without a clock the store time is reported as 0", () => {
    const { decisions, handler } = fixture();
    handler.handle([request("192.0.2.1")], CONTEXT);
    expect(decisions[0].storeUs).toBe(0);
  });

  test("a rejected store answer rejects, and failureActions gives the configured decision", async () => {
    const failing: LimiterStore = { check: () => Promise.reject(new Error("down")), close: () => Promise.resolve() };
    const handler = createRateLimitHandler({
      policies: compilePolicies([SEED], { keyPrefix: "" }),
      identity: DEFAULT_IDENTITY_OPTIONS,
      store: failing,
      failure: "deny",
    });
    await expect(Promise.resolve(handler.handle([request("192.0.2.1")], CONTEXT))).rejects.toThrow("down");
    const actions = handler.failureActions(new Error("down"), []);
    expect(actions.map((a) => a.name)).toEqual(["ip_score", "allowed", "retry_after", "degraded"]);
    expect(varOf(actions, "ip_score")).toBe(100);
  });

  test("a synchronously throwing store throws out of handle", () => {
    const throwing: LimiterStore = {
      check: () => {
        throw new Error("boom");
      },
      close: () => Promise.resolve(),
    };
    const handler = createRateLimitHandler({
      policies: compilePolicies([SEED], { keyPrefix: "" }),
      identity: DEFAULT_IDENTITY_OPTIONS,
      store: throwing,
      failure: "allow",
    });
    expect(() => handler.handle([request("192.0.2.1")], CONTEXT)).toThrow("boom");
    expect(varOf(handler.failureActions(new Error("boom"), []), "degraded")).toBe(1);
  });

  test("a NOTIFY mixing handled and unhandled messages resolves in message order", async () => {
    const { store, release } = deferredStore(memory());
    const handler = createRateLimitHandler({
      policies: compilePolicies([SEED], { keyPrefix: "" }),
      identity: DEFAULT_IDENTITY_OPTIONS,
      store,
      failure: "allow",
    });
    const result = handler.handle([request("192.0.2.1", "other"), request("192.0.2.1")], CONTEXT);
    release();
    expect((await result).map((a) => a.name)[0]).toBe("ip_score");
  });
});
