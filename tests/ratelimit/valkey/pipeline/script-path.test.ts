// The lean script path (src/ratelimit/valkey/pipeline) against real Valkey 8 and 9: batched
// decisions travel as packed EVALSHAs on the store's own named sockets, decide exactly as the
// classic path (node-redis, one argument per number) does, and survive SCRIPT FLUSH, a restart
// and a cluster whose keys live on three primaries.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import type { Clock, Decision, GcraParams, LimitCheck } from "../../../../src/ratelimit/store.ts";
import { SCRIPT_CLIENT_NAME } from "../../../../src/ratelimit/valkey/pipeline/script-socket.ts";
import { PACKED_SHA } from "../../../../src/ratelimit/valkey/pipeline/script-path.ts";
import { createValkeyStore, type ValkeyStore } from "../../../../src/ratelimit/valkey/store.ts";
import { startCluster, startValkey, VALKEY_VERSIONS, valkeyLabel, type ValkeyProcess } from "../../../helpers/valkey.ts";

const clock: Clock = { nowUs: () => Date.now() * 1000 };
const HOUR_US = 3_600_000_000;
const SLOW: GcraParams = { emissionIntervalUs: HOUR_US, burstToleranceUs: 2 * HOUR_US };
const request = (id: string, cost = 1): LimitCheck[] => [
  { key: `{${id}}:a`, params: SLOW, cost, shadow: false },
  { key: `{${id}}:b`, params: { emissionIntervalUs: HOUR_US, burstToleranceUs: HOUR_US }, cost: 1, shadow: true },
];
const options = (url: string) => ({ url, keyPrefix: "lp:", deadlineMs: 1000, connections: 2, batch: true });
/** Decisions without the time-dependent fields (retry/reset move with real time). */
const shape = (d: Decision) => ({ allowed: d.allowed, deciding: d.decidingIndex, results: d.results.map((r) => [r.allowed, r.neverPasses, r.remaining]) });

/** CLIENT LIST lines of the lean sockets. */
async function scriptClients(server: ValkeyProcess): Promise<string[]> {
  return (await server.cli("CLIENT", "LIST")).split("\n").filter((line) => line.includes(`name=${SCRIPT_CLIENT_NAME}`));
}
const calls = async (server: ValkeyProcess, command: string) =>
  Number(/calls=(\d+)/.exec((await server.cli("INFO", "commandstats")).split("\n").find((l) => l.startsWith(`cmdstat_${command}:`)) ?? "")?.[1] ?? 0);

for (const version of VALKEY_VERSIONS) {
  describe(`lean script path, ${valkeyLabel(version)}`, () => {
    let server: ValkeyProcess;
    const stores: ValkeyStore[] = [];
    const open = async (dial?: false) => {
      const store = await createValkeyStore(options(server.url), { clock, ...(dial === false ? { dial } : {}) });
      stores.push(store);
      return store;
    };
    beforeAll(async () => {
      server = await startValkey({ version });
    });
    afterAll(async () => {
      await Promise.all(stores.map((s) => s.close()));
      await server?.stop();
      rmSync(server.dir, { recursive: true, force: true });
    });

    test("batched decisions leave as packed EVALSHAs on the store's own named sockets (one per configured connection)", async () => {
      const store = await open();
      const clients = await scriptClients(server);
      expect(clients.length).toBe(2);
      const before = await calls(server, "evalsha");
      const decisions = await Promise.all(Array.from({ length: 50 }, (_, i) => store.check(request(`named-${i}`))));
      expect(decisions.every((d) => d.allowed)).toBe(true);
      // The packed script is the one cached; the lean sockets made the calls.
      expect(await server.cli("SCRIPT", "EXISTS", PACKED_SHA)).toBe("1");
      expect((await scriptClients(server)).some((line) => line.includes("cmd=evalsha"))).toBe(true);
      expect(await calls(server, "evalsha")).toBeGreaterThan(before);
    });

    test("the lean and the classic path make the same decisions for the same request sequence", async () => {
      const lean = await open();
      const classic = await open(false);
      const run = async (store: ValkeyStore, tag: string) => {
        const out: ReturnType<typeof shape>[] = [];
        for (let round = 0; round < 5; round++) {
          const batch = await Promise.all(["x", "y", "z"].map((id, i) => store.check(request(`${tag}-${id}`, 1 + ((round + i) % 2)))));
          out.push(...batch.map(shape));
        }
        return out;
      };
      const leanDecisions = await run(lean, "lean");
      expect(leanDecisions.some((d) => !d.allowed)).toBe(true);
      expect(await run(classic, "classic")).toEqual(leanDecisions);
    });

    test("SCRIPT FLUSH under traffic: every decision answered, one SCRIPT LOAD per socket, no EVAL", async () => {
      const store = await open();
      await Promise.all(Array.from({ length: 10 }, (_, i) => store.check(request(`flush-warm-${i}`))));
      const loads = await calls(server, "script|load");
      const evals = await calls(server, "eval");
      await server.cli("SCRIPT", "FLUSH");
      const decisions = await Promise.all(Array.from({ length: 200 }, (_, i) => store.check(request(`flush-${i}`))));
      expect(decisions.every((d) => d.allowed)).toBe(true);
      expect(await calls(server, "eval")).toBe(evals);
      expect(await calls(server, "script|load") - loads).toBeLessThanOrEqual(2);
    });

    test("after a restart the lean sockets reconnect, reload the script and carry the calls again", async () => {
      const store = await open();
      await store.check(request("restart-before"));
      await server.stop();
      await server.restart();
      // Until a socket is back (ours or node-redis'), decisions fail: the failure policy's turn.
      const deadline = Date.now() + 5000;
      let decision: Decision | undefined;
      while (decision === undefined && Date.now() < deadline) {
        decision = await Promise.resolve(store.check(request("restart-after"))).catch(() => Bun.sleep(50).then(() => undefined));
      }
      expect(decision?.allowed).toBe(true);
      // A decision made once the lean sockets have logged in again goes over one of them.
      const leanUsed = async () => (await scriptClients(server)).some((line) => line.includes("cmd=evalsha"));
      while (!(await leanUsed()) && Date.now() < deadline) {
        await store.check(request("restart-lean"));
        await Bun.sleep(20);
      }
      expect(await leanUsed()).toBe(true);
      expect(await server.cli("SCRIPT", "EXISTS", PACKED_SHA)).toBe("1");
    }, 15_000);
  });
}

describe("lean script path on a 3-primary cluster", () => {
  test("each primary gets its own lean sockets, and keys of every slot range decide exactly", async () => {
    const cluster = await startCluster(undefined, VALKEY_VERSIONS[VALKEY_VERSIONS.length - 1]);
    const store = await createValkeyStore({ nodes: cluster.urls, keyPrefix: "lp:", deadlineMs: 1000, connections: 1, batch: true }, { clock });
    try {
      const ids = Array.from({ length: 30 }, (_, i) => `cl-${i}`);
      // The first batch per node may go through node-redis while its lean socket connects.
      await Promise.all(ids.map((id) => store.check(request(`warm-${id}`))));
      await Bun.sleep(200);
      for (let round = 0; round < 4; round++) {
        const decisions = await Promise.all(ids.map((id) => store.check(request(id))));
        expect(decisions.map((d) => d.allowed)).toEqual(ids.map(() => round < 3));
      }
      for (const node of cluster.nodes) {
        const clients = (await node.cli("CLIENT", "LIST")).split("\n").filter((l) => l.includes(`name=${SCRIPT_CLIENT_NAME}`));
        expect(clients.length).toBe(1);
        expect(await node.cli("SCRIPT", "EXISTS", PACKED_SHA)).toBe("1");
      }
    } finally {
      await store.close();
      await cluster.stop();
    }
  }, 30_000);
});
