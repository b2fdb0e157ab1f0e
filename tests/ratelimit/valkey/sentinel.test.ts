// The Valkey store through a real sentinel (one primary, one replica, one sentinel):
// a SENTINEL FAILOVER in the middle of traffic does not stop the decisions.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { MemoryStore } from "../../../src/ratelimit/memory/store.ts";
import { ResilientStore } from "../../../src/ratelimit/resilience/resilient-store.ts";
import type { Clock, GcraParams, LimitCheck } from "../../../src/ratelimit/store.ts";
import { createValkeyStore, type ValkeyStore } from "../../../src/ratelimit/valkey/store.ts";
import { startSentinelGroup, type ValkeySentinelGroup } from "../../helpers/valkey.ts";

const clock: Clock = { nowUs: () => Date.now() * 1000 };
const HOUR_US = 3_600_000_000;
const SLOW: GcraParams = { emissionIntervalUs: HOUR_US, burstToleranceUs: 2 * HOUR_US };
const one = (id: string): LimitCheck[] => [{ key: `{${id}}:a`, params: SLOW, cost: 1, shadow: false }];

let group: ValkeySentinelGroup;
let store: ValkeyStore;
let unhandled = 0;
const onUnhandled = () => unhandled++;

beforeAll(async () => {
  process.on("unhandledRejection", onUnhandled);
  group = await startSentinelGroup();
  store = await createValkeyStore({
    sentinels: [`127.0.0.1:${group.sentinelPort}`],
    masterName: group.masterName,
    keyPrefix: "rl:",
    deadlineMs: 200,
    connections: 1,
    batch: true,
  }, { clock });
}, 20_000);
afterAll(async () => {
  await store?.close();
  await group?.stop();
  process.off("unhandledRejection", onUnhandled);
});

describe("ValkeyStore through a sentinel", () => {
  test("decides on the primary the sentinel names", async () => {
    const d = await store.check(one("before"));
    expect(d).toMatchObject({ allowed: true, degraded: false });
    expect(await group.primary.cli("EXISTS", "rl:{before}:a")).toBe("1");
  });

  test("decisions continue across SENTINEL FAILOVER and land on the promoted replica", async () => {
    const resilient = new ResilientStore({ primary: store, fallback: new MemoryStore({ clock }), policy: "local", clock });
    let total = 0;
    let degraded = 0;
    expect(await group.sentinelCli("SENTINEL", "FAILOVER", group.masterName)).toBe("OK");
    let onNewPrimary = false;
    for (let i = 0; i < 300 && !onNewPrimary; i++) {
      const id = `during-${i}`;
      const d = await resilient.check(one(id));
      total++;
      if (d.degraded) degraded++;
      else if ((await group.replica.cli("ROLE")).startsWith("master")) {
        onNewPrimary = (await group.replica.cli("EXISTS", `rl:{${id}}:a`)) === "1";
      }
      await Bun.sleep(20);
    }
    expect(onNewPrimary).toBe(true);
    expect(degraded).toBeLessThan(total);
    expect(unhandled).toBe(0);
  }, 15_000);
});
