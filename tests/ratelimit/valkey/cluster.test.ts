// The Valkey store against a real 3-primary Valkey cluster: keys of every slot range decide
// correctly; a killed primary degrades only to the failure policy; it recovers on restart.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { MemoryStore } from "../../../src/ratelimit/memory/store.ts";
import { ResilientStore } from "../../../src/ratelimit/resilience/resilient-store.ts";
import type { Clock, Decision, GcraParams, LimitCheck } from "../../../src/ratelimit/store.ts";
import { createValkeyStore, type ValkeyStore } from "../../../src/ratelimit/valkey/store.ts";
import { startCluster, type ValkeyCluster } from "../../helpers/valkey.ts";

const clock: Clock = { nowUs: () => Date.now() * 1000 };
const HOUR_US = 3_600_000_000;
const SLOW: GcraParams = { emissionIntervalUs: HOUR_US, burstToleranceUs: 2 * HOUR_US };
const checksFor = (id: string): LimitCheck[] => [
  { key: `{${id}}:a`, params: SLOW, cost: 1, shadow: false },
  { key: `{${id}}:b`, params: { emissionIntervalUs: HOUR_US, burstToleranceUs: 0 }, cost: 1, shadow: true },
];

let cluster: ValkeyCluster;
let store: ValkeyStore;
let unhandled = 0;
const onUnhandled = () => unhandled++;

/** The node (index) that owns `id`'s hash tag. */
async function ownerOf(id: string): Promise<number> {
  const slot = Number(await cluster.nodes[0].cli("CLUSTER", "KEYSLOT", `rl:{${id}}:a`));
  const shards = await cluster.nodes[0].cli("CLUSTER", "SLOTS");
  const lines = shards.split("\n");
  for (let i = 0; i + 3 < lines.length; i++) {
    const from = Number(lines[i]);
    const to = Number(lines[i + 1]);
    if (lines[i + 2] === "127.0.0.1" && slot >= from && slot <= to) {
      return cluster.nodes.findIndex((n) => String(n.port) === lines[i + 3]);
    }
  }
  throw new Error(`no owner for slot ${slot}`);
}

beforeAll(async () => {
  process.on("unhandledRejection", onUnhandled);
  cluster = await startCluster();
  store = await createValkeyStore({ nodes: cluster.urls, keyPrefix: "rl:", deadlineMs: 200, connections: 2, batch: true }, { clock });
}, 20_000);
afterAll(async () => {
  await store?.close();
  await cluster?.stop();
  process.off("unhandledRejection", onUnhandled);
});

describe("ValkeyStore on a cluster", () => {
  test("keys in every node's slot range decide correctly (3 per hour, the 4th denied)", async () => {
    const ids = Array.from({ length: 30 }, (_, i) => `client-${i}`);
    const owners = new Set(await Promise.all(ids.map(ownerOf)));
    expect(owners.size).toBe(3);
    for (let round = 0; round < 4; round++) {
      const decisions = await Promise.all(ids.map((id) => store.check(checksFor(id))));
      expect(decisions.every((d) => d.allowed === round < 3)).toBe(true);
    }
    for (const node of cluster.nodes) expect(Number(await node.cli("DBSIZE"))).toBeGreaterThan(0);
  });

  test("nodeOf names the primary that owns a key's slot", async () => {
    const ids = Array.from({ length: 30 }, (_, i) => `node-${i}`);
    for (const id of ids) {
      expect(store.nodeOf(checksFor(id))).toBe(`127.0.0.1:${cluster.nodes[await ownerOf(id)].port}`);
    }
    expect(new Set(ids.map((id) => store.nodeOf(checksFor(id)))).size).toBe(3);
  });

  test("a request whose limits have two hash tags is decided per tag (no CROSSSLOT), denied when either denies", async () => {
    const logs: string[] = [];
    const split = await createValkeyStore(
      { nodes: cluster.urls, keyPrefix: "rl:", deadlineMs: 200, connections: 1, batch: true },
      { clock, log: (_level, msg) => void logs.push(msg) },
    );
    try {
      // A per-client limit (3 an hour) and a per-API-key limit (2 an hour): tags on different slots.
      const request = (client: string): LimitCheck[] => [
        { key: `{${client}}:per-client`, params: SLOW, cost: 1, shadow: false },
        { key: "{key-7}:api-key", params: { emissionIntervalUs: HOUR_US, burstToleranceUs: HOUR_US }, cost: 1, shadow: false },
      ];
      expect(await cluster.nodes[0].cli("CLUSTER", "KEYSLOT", "rl:{client-x}:per-client")).not.toBe(await cluster.nodes[0].cli("CLUSTER", "KEYSLOT", "rl:{key-7}:api-key"));
      const decisions: Decision[] = [];
      for (const client of ["client-x", "client-y", "client-z"]) decisions.push(await split.check(request(client)));
      expect(decisions.map((d) => [d.allowed, d.decidingIndex, d.degraded])).toEqual([[true, 1, false], [true, 1, false], [false, 1, false]]);
      // Each part ran atomically on its own slot: client-z's per-client limit committed although the API key denied.
      expect(decisions[2].results[0].allowed).toBe(true);
      expect(logs.filter((m) => m.includes("different cluster slots"))).toHaveLength(1);
    } finally {
      await split.close();
    }
  });

  test("a killed primary answers with the policy within the deadline, other slots keep deciding, and it recovers", async () => {
    const resilient = new ResilientStore({
      primary: store,
      fallback: new MemoryStore({ clock }),
      policy: "deny",
      clock,
    });
    const ids = Array.from({ length: 30 }, (_, i) => `victim-${i}`);
    const owner = new Map(await Promise.all(ids.map(async (id) => [id, await ownerOf(id)] as const)));
    const victim = cluster.nodes[2];
    await victim.stop();
    // Twice over: the first round opens the victim's breaker (its keys fail), the second shows
    // that an open breaker on one primary leaves the keys of the others on Valkey.
    for (let round = 0; round < 2; round++) {
      const during = new Map<string, Decision>();
      for (const id of ids) during.set(id, await resilient.check(checksFor(id)));
      for (const id of ids) {
        const d = during.get(id)!;
        if (owner.get(id) === 2) expect({ degraded: d.degraded, allowed: d.allowed }).toEqual({ degraded: true, allowed: false });
        else expect({ degraded: d.degraded, allowed: d.allowed }).toEqual({ degraded: false, allowed: true });
      }
    }
    expect(resilient.nodesNotClosed()).toEqual([`127.0.0.1:${victim.port}`]);
    await victim.restart();
    await cluster.waitOk();
    const onVictim = ids.filter((id) => owner.get(id) === 2);
    let recovered = false;
    for (let i = 0; i < 150 && !recovered; i++) {
      const d = await resilient.check(checksFor(onVictim[0]));
      recovered = !d.degraded;
      if (!recovered) await Bun.sleep(20);
    }
    expect(recovered).toBe(true);
    expect(unhandled).toBe(0);
  }, 15_000);
});
