// Issue 3 end to end: the agent over a 3-primary Valkey Cluster given as VALKEY_NODES (the seed's
// variable: comma-separated redis:// URLs). Clients spread over all slots, hence all three
// primaries, and each key is still limited exactly.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type AgentProcess, startAgent } from "../helpers/agent-process.ts";
import { freePort, waitFor } from "../helpers/ports.ts";
import { clientIp, connectSpop, type SpopConnection } from "../helpers/spop-socket.ts";
import { startCluster, VALKEY_VERSIONS, type ValkeyCluster, valkeyLabel } from "../helpers/valkey.ts";

// 1 request/s, burst 3: each key passes 3 at once, the 4th is denied.
const BURST = 3;
const CLIENTS = 150;

let cluster: ValkeyCluster;
let agent: AgentProcess;
let socket: SpopConnection;

for (const valkeyVersion of VALKEY_VERSIONS) describe(valkeyLabel(valkeyVersion), () => {
  beforeAll(async () => {
    cluster = await startCluster(undefined, valkeyVersion);
    const port = await freePort();
    agent = await startAgent({
      runtime: "binary",
      args: ["serve", "--listen", `127.0.0.1:${port}`, "--valkey-deadline", "1000"],
      env: { VALKEY_NODES: cluster.urls.join(","), SPOA_RATE_INTERVAL: "1000000", SPOA_RATE_BURST: "2000000" },
    });
    socket = await connectSpop(port);
    await waitFor("a decision made by Valkey", async () => !(await socket.check(clientIp(0xfffff))).degraded, 15_000);
  }, 60_000);

  afterAll(async () => {
    socket?.close();
    await agent?.stop();
    await cluster?.stop();
  });

  describe("the agent over a 3-primary cluster from VALKEY_NODES", () => {
    test(`${CLIENTS} clients spread over all primaries: each is allowed ${BURST} requests, then denied`, async () => {
      const perClient = await Promise.all(Array.from({ length: CLIENTS }, async (_, i) => {
        const ip = clientIp(1 + i * 7919);
        const verdicts = await Promise.all(Array.from({ length: BURST + 1 }, () => socket.check(ip)));
        // Counted, not ordered: concurrent requests of one key may reach the script in any order.
        return verdicts.map((v) => `${v.allowed ? "allow" : "deny"}${v.degraded ? " degraded" : ""}`).sort();
      }));
      const expected = [...Array.from({ length: BURST }, () => "allow"), "deny"];
      expect(perClient).toEqual(perClient.map(() => expected));

      // Every primary holds some of the keys: the agent routed by slot, not to one node.
      const sizes = await Promise.all(cluster.nodes.map(async (n) => Number(await n.cli("DBSIZE"))));
      for (const size of sizes) expect(size).toBeGreaterThan(10);
      // Our clients plus, until it expires, the warm-up key.
      expect(sizes.reduce((a, b) => a + b, 0) - CLIENTS).toBeOneOf([0, 1]);
    }, 30_000);
  });
});
