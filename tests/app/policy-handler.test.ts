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
  test("a synchronous store's decisions reach telemetry with their limit, result and the store time", () => {
    const config = load({ env: { SPOA_RATE_INTERVAL: "1000000", SPOA_RATE_BURST: "1000000" } });
    const { telemetry, decisions } = recorder();
    let nowUs = 0;
    const memory = new MemoryStore({ clock: { nowUs: () => 5e15 } });
    // Each check takes 1, 2, then 3 ms of the injected clock.
    let calls = 0;
    const store: LimiterStore = { check: (checks) => ((nowUs += 1000 * ++calls), memory.check(checks)), close: async () => {} };
    const { handler } = createPolicyHandler(config, { store, telemetry, clock: { nowUs: () => nowUs } });
    const results = [1, 2, 3].map(() => handler.handle(request(0x0a000001), CONTEXT));
    expect(results.every(Array.isArray)).toBe(true);
    expect(decisions.map((d) => [d.limit, d.result, d.seconds])).toEqual([["default", "allow", 0.001], ["default", "allow", 0.002], ["default", "deny", 0.003]]);
  });

  test("interleaved promised decisions each get their own store time", async () => {
    const config = load();
    const { telemetry, decisions } = recorder();
    let nowUs = 0;
    const memory = new MemoryStore({ clock: { nowUs: () => 5e15 } });
    const release: (() => void)[] = [];
    const slow: LimiterStore = {
      check: (checks: readonly LimitCheck[]) => new Promise<Decision>((r) => release.push(() => r(memory.check(checks) as Decision))),
      close: async () => {},
    };
    const { handler } = createPolicyHandler(config, { store: slow, telemetry, clock: { nowUs: () => nowUs } });
    const first = handler.handle(request(1), CONTEXT);
    nowUs += 1000;
    const second = handler.handle(request(2), CONTEXT);
    nowUs += 4000;
    release[1]();
    await second;
    nowUs += 2000;
    release[0]();
    await first;
    // request 2 waited 4 ms and finished first; request 1 waited 1 + 4 + 2 ms.
    expect(decisions.map((d) => d.seconds)).toEqual([0.004, 0.007]);
  });

  test("a request in flight finishes on the config it started with, the next uses the reloaded one", async () => {
    // txn.policy names the deciding limit; it is not among the default variables.
    const v1 = load(withFile("haproxy:\n  variables: [allowed, policy]\nlimits:\n  - name: v1\n    rate: 100/s\n"));
    const v2 = load(withFile("haproxy:\n  variables: [allowed, policy]\nlimits:\n  - name: v2\n    rate: 50/s\n"));
    const { telemetry } = recorder();
    const memory = new MemoryStore({ clock: { nowUs: () => 5e15 } });
    const release: (() => void)[] = [];
    const deferred: LimiterStore = {
      check: (checks: readonly LimitCheck[]) => new Promise<Decision>((r) => release.push(() => r(memory.check(checks) as Decision))),
      close: async () => {},
    };
    const policy = createPolicyHandler(v1, { store: deferred, telemetry });
    const first = policy.handler.handle(request(3), CONTEXT);
    policy.apply(v2);
    const second = policy.handler.handle(request(3), CONTEXT);
    release.forEach((r) => r());
    const policyOf = (actions: readonly Action[]) => actions.find((a) => a.name === "policy");
    expect(policyOf(await first)).toMatchObject({ value: { value: "v1" } });
    expect(policyOf(await second)).toMatchObject({ value: { value: "v2" } });
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

  test("a new Valkey address or password is applied (stores.ts switches); a new Valkey deadline is refused", () => {
    const secrets = { files: { "/run/secrets/old": "old\n", "/run/secrets/new": "new\n" } };
    const valkey = (port: number, secret: string, deadline: number) =>
      load(withFile(`store: { valkey: { url: 'redis://127.0.0.1:${port}', passwordFile: /run/secrets/${secret}, deadlineMs: ${deadline} } }\n`, secrets));
    const running = valkey(6379, "old", 50);
    const moved = reloadableConfig(running, valkey(6380, "new", 50));
    expect(moved.refused).toEqual([]);
    expect([moved.config.store.valkey?.url, moved.config.store.valkey?.password]).toEqual(["redis://127.0.0.1:6380", "new"]);
    const retuned = reloadableConfig(running, valkey(6380, "new", 80));
    expect(retuned.refused).toEqual(["store"]);
    expect(retuned.config.store.valkey?.url).toBe("redis://127.0.0.1:6379");
  });

  test("an unchanged file refuses nothing", () => {
    const running = load(withFile("listen: 127.0.0.1:1000\n"));
    expect(reloadableConfig(running, load(withFile("listen: 127.0.0.1:1000\n"))).refused).toEqual([]);
  });
});
