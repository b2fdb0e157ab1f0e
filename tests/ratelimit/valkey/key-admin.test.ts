// Peek and delete of single GCRA keys against a real valkey-server: the peek reads what the
// decision script wrote, on the server's clock, and writes nothing; delete answers the TAT.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { keyView } from "../../../src/ratelimit/store-admin.ts";
import type { Clock, GcraParams, LimitCheck } from "../../../src/ratelimit/store.ts";
import { openValkeyKeyAdmin, type ValkeyKeyAdmin } from "../../../src/ratelimit/valkey/admin-client.ts";
import { createValkeyStore, type ValkeyStore } from "../../../src/ratelimit/valkey/store.ts";
import { waitFor } from "../../helpers/ports.ts";
import { startCluster, startSentinelGroup, startValkey, VALKEY_VERSIONS, type ValkeyProcess } from "../../helpers/valkey.ts";

const clock: Clock = { nowUs: () => Date.now() * 1000 };
const HOUR_US = 3_600_000_000;
/** One unit per hour, burst 3: the test's own run time changes nothing. */
const SLOW: GcraParams = { emissionIntervalUs: HOUR_US, burstToleranceUs: 2 * HOUR_US };
const check = (key: string, cost = 1): LimitCheck => ({ key, params: SLOW, cost, shadow: false });

for (const version of VALKEY_VERSIONS) {
  describe(`Valkey ${version}`, () => {
    let server: ValkeyProcess;
    let store: ValkeyStore;
    let keys: ValkeyKeyAdmin;

    beforeAll(async () => {
      server = await startValkey({ version });
      store = await createValkeyStore({ url: server.url, keyPrefix: "", deadlineMs: 1000, connections: 1, batch: false }, { clock });
      keys = await openValkeyKeyAdmin({ url: server.url, keyPrefix: "", deadlineMs: 1000, connections: 1, batch: false });
    });
    afterAll(async () => {
      await keys?.close();
      await store?.close();
      await server?.stop();
      if (server) rmSync(server.dir, { recursive: true, force: true });
    });

    describe("key admin", () => {
      test("peekKey() of an absent key reports no TAT, the server's time, and creates nothing", async () => {
        const before = Date.now() * 1000;
        const peek = await keys.peekKey("rl:{absent}:x:1");
        expect(peek.tatUs).toBeUndefined();
        expect(peek.ttlMs).toBeUndefined();
        // The server runs on this machine: its TIME is this clock's, give or take the call.
        expect(Math.abs(peek.nowUs - before)).toBeLessThan(5_000_000);
        expect(await server.cli("EXISTS", "rl:{absent}:x:1")).toBe("0");
      });

      test("peekKey() after a denial shows remaining 0 and the retry-after the script announced, without consuming", async () => {
        const key = "rl:{10.0.0.1}:per-ip:abcd";
        for (let i = 0; i < 3; i++) expect((await store.check([check(key)])).allowed).toBe(true);
        const denied = await store.check([check(key)]);
        expect(denied.allowed).toBe(false);
        const storedBefore = await server.cli("GET", key);

        const peek = await keys.peekKey(key);
        const view = keyView(SLOW, 1, peek);
        expect(peek.tatUs).toBe(Number(storedBefore));
        expect(peek.ttlMs).toBeGreaterThan(0);
        expect(view.remaining).toBe(0);
        expect(view.allowed).toBe(false);
        // The same wait the script computed, less the moments between the two calls.
        expect(view.retryAfterMs).toBeLessThanOrEqual(Math.ceil(denied.results[0].retryAfterUs / 1000));
        expect(view.retryAfterMs).toBeGreaterThan(Math.ceil(denied.results[0].retryAfterUs / 1000) - 5_000);
        expect(view.retryAfterSeconds).toBe(3600);
        // Nothing was written: same TAT, and the expiry was not refreshed.
        expect(await server.cli("GET", key)).toBe(storedBefore);
        expect(Number(await server.cli("PTTL", key))).toBeLessThanOrEqual(peek.ttlMs!);
        // And a decision still sees the same state.
        expect((await store.check([check(key)])).allowed).toBe(false);
      });

      test("deleteKey() answers the TAT it removed; the next check starts from a full burst", async () => {
        const key = "rl:{10.0.0.2}:per-ip:abcd";
        for (let i = 0; i < 3; i++) await store.check([check(key)]);
        const stored = Number(await server.cli("GET", key));
        expect(await keys.deleteKey(key)).toBe(stored);
        expect(await server.cli("EXISTS", key)).toBe("0");
        expect(await keys.deleteKey(key)).toBeUndefined();
        const fresh = await store.check([check(key)]);
        expect([fresh.allowed, fresh.results[0].remaining]).toEqual([true, 2]);
      });

      test("announceReset() publishes keys on the reset channel; a store subscribed to it hears them without its prefix", async () => {
        const heard: string[] = [];
        const listener = await createValkeyStore({ url: server.url, keyPrefix: "t:", deadlineMs: 1000, connections: 1, batch: false }, {
          clock,
          resets: { channel: "rl:resets", onKey: (key) => heard.push(key) },
        });
        const announcing = await openValkeyKeyAdmin({ url: server.url, keyPrefix: "", deadlineMs: 1000, connections: 1, batch: false }, { resetChannel: "rl:resets" });
        try {
          // The subscription is made in the background: announce until it is heard.
          await waitFor("the subscriber to hear a reset", async () => {
            await announcing.announceReset!(["t:rl:{10.0.0.3}:per-ip:abcd"]);
            return heard.length > 0;
          }, 5_000);
          expect(heard[0]).toBe("rl:{10.0.0.3}:per-ip:abcd");
          // Keys outside the store's prefix are not its keys; the store's own resets are announced.
          await announcing.announceReset!(["other:{x}:y:z"]);
          await listener.announceReset(["rl:{10.0.0.4}:per-ip:abcd"]);
          await waitFor("the store's own reset to come back", () => heard.includes("rl:{10.0.0.4}:per-ip:abcd"), 5_000);
          expect(new Set(heard)).toEqual(new Set(["rl:{10.0.0.3}:per-ip:abcd", "rl:{10.0.0.4}:per-ip:abcd"]));
        } finally {
          await announcing.close();
          await listener.close();
        }
      });

      test("in a cluster, peek/delete route by key and resets reach a subscriber on any node", async () => {
        const cluster = await startCluster(undefined, version);
        const options = { nodes: cluster.urls, keyPrefix: "", deadlineMs: 1000, connections: 1, batch: false };
        const heard: string[] = [];
        const clusterStore = await createValkeyStore(options, { clock, resets: { channel: "rl:resets", onKey: (key) => heard.push(key) } });
        const admin = await openValkeyKeyAdmin(options, { resetChannel: "rl:resets" });
        try {
          const keys = ["rl:{10.1.0.1}:a:1", "rl:{10.1.0.2}:a:1", "rl:{10.1.0.3}:a:1", "rl:{10.1.0.4}:a:1"];
          for (const key of keys) await clusterStore.check([check(key)]);
          for (const key of keys) expect((await admin.peekKey(key)).tatUs).toBeGreaterThan(0);
          await waitFor("a reset heard through the cluster", async () => {
            for (const key of keys) await admin.deleteKey(key);
            await admin.announceReset!(keys);
            return keys.every((k) => heard.includes(k));
          }, 10_000);
          for (const key of keys) expect((await admin.peekKey(key)).tatUs).toBeUndefined();
        } finally {
          await admin.close();
          await clusterStore.close();
          await cluster.stop();
        }
      }, 30_000);

      test("through sentinels, peek/delete reach the master and resets reach a subscriber", async () => {
        const group = await startSentinelGroup(undefined, version);
        const options = { sentinels: [`127.0.0.1:${group.sentinelPort}`], masterName: group.masterName, keyPrefix: "", deadlineMs: 1000, connections: 1, batch: false };
        const heard: string[] = [];
        const sentinelStore = await createValkeyStore(options, { clock, resets: { channel: "rl:resets", onKey: (key) => heard.push(key) } });
        const admin = await openValkeyKeyAdmin(options, { resetChannel: "rl:resets" });
        try {
          const key = "rl:{10.2.0.1}:a:1";
          await sentinelStore.check([check(key)]);
          const peek = await admin.peekKey(key);
          expect(peek.tatUs).toBeGreaterThan(0);
          expect(await admin.deleteKey(key)).toBe(peek.tatUs);
          await waitFor("a reset heard through the sentinel's master", async () => {
            await admin.announceReset!([key]);
            return heard.includes(key);
          }, 10_000);
        } finally {
          await admin.close();
          await sentinelStore.close();
          await group.stop();
        }
      }, 40_000);

      test("calls name the connection error when Valkey is unreachable", async () => {
        const down = await openValkeyKeyAdmin({ url: "redis://127.0.0.1:1", keyPrefix: "", deadlineMs: 100, connections: 1, batch: false }, { waitMs: 300 });
        try {
          await expect(down.peekKey("rl:{x}:y:z")).rejects.toThrow(/ECONNREFUSED/);
        } finally {
          await down.close();
        }
      });
    });
  });
}
