// Issue 3 end to end: the agent finds its Valkey primary through a sentinel (VALKEY_SENTINELS +
// VALKEY_MASTER_NAME) and keeps answering every NOTIFY across a SENTINEL FAILOVER, deciding on
// the promoted replica afterwards.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type AgentProcess, startAgent } from "../helpers/agent-process.ts";
import { freePort, waitFor } from "../helpers/ports.ts";
import { clientIp, connectSpop, type SpopConnection, type Verdict } from "../helpers/spop-socket.ts";
import { startSentinelGroup, VALKEY_VERSIONS, valkeyLabel, type ValkeySentinelGroup } from "../helpers/valkey.ts";

let group: ValkeySentinelGroup;
let agent: AgentProcess;
let socket: SpopConnection;

/** The Valkey key of client `n` (the default limit at 1/s burst 3). */
function keyPattern(n: number): string {
  const ip = clientIp(n);
  return `rl:{${ip >>> 24}.${(ip >>> 16) & 255}.${(ip >>> 8) & 255}.${ip & 255}}:default:*`;
}

for (const valkeyVersion of VALKEY_VERSIONS) describe(valkeyLabel(valkeyVersion), () => {
  beforeAll(async () => {
    group = await startSentinelGroup(undefined, valkeyVersion);
    const port = await freePort();
    agent = await startAgent({
      runtime: "binary",
      args: ["serve", "--listen", `127.0.0.1:${port}`, "--valkey-deadline", "200"],
      env: {
        VALKEY_SENTINELS: `127.0.0.1:${group.sentinelPort}`,
        VALKEY_MASTER_NAME: group.masterName,
        SPOA_RATE_INTERVAL: "1000000",
        SPOA_RATE_BURST: "2000000",
      },
    });
    socket = await connectSpop(port, { timeoutMs: 1_500 });
    await waitFor("a decision made by Valkey", async () => !(await socket.check(clientIp(0xfffff))).degraded, 15_000);
  }, 60_000);

  afterAll(async () => {
    socket?.close();
    await agent?.stop();
    await group?.stop();
  });

  describe("the agent over Valkey Sentinel", () => {
    test("decides on the primary the sentinel names", async () => {
      const v = await socket.check(clientIp(1));
      expect([v.allowed, v.degraded]).toEqual([true, false]);
      expect(await group.primary.cli("KEYS", keyPattern(1))).not.toBe("");
    });

    test("every NOTIFY is answered across SENTINEL FAILOVER, and decisions then land on the promoted replica", async () => {
      const verdicts: Verdict[] = [];
      expect(await group.sentinelCli("SENTINEL", "FAILOVER", group.masterName)).toBe("OK");
      let onNewPrimary = false;
      for (let i = 0; i < 400 && !onNewPrimary; i++) {
        const n = 1_000 + i;
        // Promoted before the request was sent: a key there now was written there, not replicated.
        const promoted = (await group.replica.cli("ROLE")).startsWith("master");
        const v = await socket.check(clientIp(n));
        verdicts.push(v);
        if (promoted && !v.degraded) onNewPrimary = (await group.replica.cli("KEYS", keyPattern(n))) !== "";
        await Bun.sleep(20);
      }
      expect(onNewPrimary).toBe(true);
      // Fresh clients: whoever decided (Valkey or, briefly, the local policy), each was allowed.
      expect(verdicts.filter((v) => !v.allowed)).toEqual([]);
      expect(verdicts.at(-1)?.degraded).toBe(false);
    }, 20_000);
  });
});
