// The engine-facing handler of serve: decisions reach telemetry with their timing, a reload
// swaps the rules, and restart-only fields survive a reload unchanged.
import { describe, expect, test } from "bun:test";
import type { DecisionRecord, Telemetry } from "../../src/app/telemetry.ts";
import { createPolicyHandler } from "../../src/app/policy-handler.ts";
import { reloadableConfig } from "../../src/app/reloadable-config.ts";
import { MemoryStore } from "../../src/ratelimit/memory/store.ts";
import type { Decision, LimitCheck, LimiterStore } from "../../src/ratelimit/store.ts";
import type { Action, Message } from "../../src/spop/types.ts";
import { load, withFile } from "../config/fixture.ts";

const CONTEXT = { streamId: 1, frameId: 1, connectionId: 1 };
const request = (src: number): Message[] => [{ name: "check-rate", args: [{ name: "ip_src", kind: "ipv4", value: src }] }];

function recorder(): { telemetry: Telemetry; decisions: DecisionRecord[] } {
  const decisions: DecisionRecord[] = [];
  return { telemetry: { recordDecision: (info: DecisionRecord) => decisions.push(info) } as unknown as Telemetry, decisions };
}

const allowedOf = (actions: readonly Action[]) => actions.find((a) => a.name === "allowed");

describe("createPolicyHandler()", () => {
  test("a synchronous store's decisions reach telemetry with their limit, result and a timing", () => {
    const config = load({ env: { SPOA_RATE_INTERVAL: "1000000", SPOA_RATE_BURST: "1000000" } });
    const { telemetry, decisions } = recorder();
    const store = new MemoryStore({ clock: { nowUs: () => 5e15 } });
    const { handler } = createPolicyHandler(config, { store, telemetry });
    const results = [1, 2, 3].map(() => handler.handle(request(0x0a000001), CONTEXT));
    expect(results.every(Array.isArray)).toBe(true);
    expect(decisions.map((d) => [d.limit, d.result])).toEqual([["default", "allow"], ["default", "allow"], ["default", "deny"]]);
    for (const d of decisions) expect(d.seconds).toBeGreaterThanOrEqual(0);
  });

  test("a store answering with promises still times every decision", async () => {
    const config = load();
    const { telemetry, decisions } = recorder();
    const memory = new MemoryStore({ clock: { nowUs: () => 5e15 } });
    const slow: LimiterStore = {
      check: (checks: readonly LimitCheck[]) => new Promise<Decision>((r) => setTimeout(() => r(memory.check(checks) as Decision), 5)),
      close: async () => {},
    };
    const { handler } = createPolicyHandler(config, { store: slow, telemetry });
    await Promise.all([handler.handle(request(1), CONTEXT), handler.handle(request(2), CONTEXT)]);
    expect(decisions).toHaveLength(2);
    for (const d of decisions) expect(d.seconds).toBeGreaterThanOrEqual(0.004);
  });

  test("apply() swaps the rules for the next request", () => {
    const strict = load(withFile("limits:\n  - name: strict\n    rate: 1/h\n    burst: 1\n"));
    const loose = load(withFile("limits:\n  - name: loose\n    rate: 100/s\n"));
    const { telemetry, decisions } = recorder();
    const policy = createPolicyHandler(strict, { store: new MemoryStore({ clock: { nowUs: () => 5e15 } }), telemetry });
    policy.handler.handle(request(7), CONTEXT);
    const denied = policy.handler.handle(request(7), CONTEXT) as readonly Action[];
    expect(allowedOf(denied)).toMatchObject({ value: { value: false } });
    policy.apply(loose);
    const allowed = policy.handler.handle(request(7), CONTEXT) as readonly Action[];
    expect(allowedOf(allowed)).toMatchObject({ value: { value: true } });
    expect(decisions.map((d) => d.limit)).toEqual(["strict", "strict", "loose"]);
  });
});

describe("reloadableConfig()", () => {
  test("keeps restart-only fields at their running values and names them", () => {
    const running = load(withFile("listen: 127.0.0.1:1000\nstore: { keyPrefix: 'a:' }\n"));
    const next = load(withFile("listen: 127.0.0.1:2000\nstore: { keyPrefix: 'b:' }\nhaproxy: { maxInFlight: 5, messages: [check-rate, other] }\nlimits:\n  - name: x\n    rate: 1/s\n"));
    const { config, refused } = reloadableConfig(running, next);
    expect(refused).toEqual(["listen", "store", "haproxy.maxInFlight"]);
    expect(config.listen).toBe("127.0.0.1:1000");
    expect(config.store.keyPrefix).toBe("a:");
    expect(config.haproxy.maxInFlight).toBe(running.haproxy.maxInFlight);
    expect(config.haproxy.messages).toEqual(["check-rate", "other"]);
    expect(config.limits.map((l) => l.name)).toEqual(["x"]);
  });

  test("an unchanged file refuses nothing", () => {
    const running = load(withFile("listen: 127.0.0.1:1000\n"));
    expect(reloadableConfig(running, load(withFile("listen: 127.0.0.1:1000\n"))).refused).toEqual([]);
  });
});
