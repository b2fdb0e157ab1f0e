// Issue 3 end to end: the local deny cache. Once Valkey denied a hot key, the agent answers that
// key's requests itself (Valkey's script-call count stands still, spoa_deny_cache_hits_total
// grows) — and still exactly: no request is denied after the moment Valkey would allow it, and
// the key passes again at the announced retry time.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { type AgentProcess, startAgent } from "../helpers/agent-process.ts";
import { freePort, waitFor } from "../helpers/ports.ts";
import { clientIp, connectSpop, type SpopConnection, type Verdict } from "../helpers/spop-socket.ts";
import { metricSum } from "../helpers/prometheus.ts";
import { startValkey, VALKEY_VERSIONS, valkeyLabel, type ValkeyProcess } from "../helpers/valkey.ts";

// 1 request/s, burst 3. After 3 requests at t0 the key passes again at exactly t0 + T.
const T_MS = 1_000;
const BURST = 3;

let valkey: ValkeyProcess;
let agent: AgentProcess;
let socket: SpopConnection;
let metrics = "";

/** EVALSHA + EVAL calls Valkey has served: one per script call (a batch counts once). */
async function scriptCalls(): Promise<number> {
  const stats = await valkey.cli("INFO", "commandstats");
  const calls = (cmd: string) => Number(new RegExp(`cmdstat_${cmd}:calls=(\\d+)`).exec(stats)?.[1] ?? 0);
  return calls("evalsha") + calls("eval");
}

for (const valkeyVersion of VALKEY_VERSIONS) describe(valkeyLabel(valkeyVersion), () => {
  beforeAll(async () => {
    valkey = await startValkey({ version: valkeyVersion });
    const port = await freePort();
    agent = await startAgent({
      runtime: "binary",
      args: ["serve", "--listen", `127.0.0.1:${port}`, "--valkey-url", valkey.url, "--valkey-deadline", "1000", "--metrics", "127.0.0.1:0"],
      env: { SPOA_RATE_INTERVAL: String(T_MS * 1000), SPOA_RATE_BURST: String((BURST - 1) * T_MS * 1000) },
    });
    metrics = String((await agent.waitForLog("listening")).metrics);
    socket = await connectSpop(port);
    await waitFor("a decision made by Valkey", async () => !(await socket.check(clientIp(0xfffff))).degraded, 10_000);
  }, 30_000);

  afterAll(async () => {
    socket?.close();
    await agent?.stop();
    await valkey?.stop();
    if (valkey) rmSync(valkey.dir, { recursive: true, force: true });
  });

  describe("the local deny cache through the agent", () => {
    test("a denied hot key is answered without Valkey until its retry time, and passes again then", async () => {
      const key = clientIp(7);
      const burst = await Promise.all(Array.from({ length: BURST }, () => socket.check(key)));
      expect(burst.every((v) => v.allowed && !v.degraded)).toBe(true);
      const firstDenial = await socket.check(key);
      expect([firstDenial.allowed, firstDenial.degraded]).toEqual([false, false]);
      expect(firstDenial.retryAfter).toBe(1);

      const callsBefore = await scriptCalls();
      const hitsBefore = await metricSum(metrics, "spoa_deny_cache_hits_total");
      const denials: Verdict[] = [];
      let passed: Verdict | undefined;
      for (let i = 0; i < 200 && passed === undefined; i++) {
        const v = await socket.check(key);
        expect(v.degraded).toBe(false);
        if (v.allowed) passed = v;
        else denials.push(v);
        await Bun.sleep(20);
      }
      const valkeyCalls = (await scriptCalls()) - callsBefore;
      const hits = (await metricSum(metrics, "spoa_deny_cache_hits_total")) - hitsBefore;

      // The cache answered: dozens of denials, Valkey asked only at the end (the passing request,
      // and at most one more right at the edge of the cached window).
      expect(denials.length).toBeGreaterThan(20);
      expect(hits).toBeGreaterThanOrEqual(denials.length - 1);
      expect(valkeyCalls).toBeLessThanOrEqual(2);
      expect(valkeyCalls).toBeGreaterThanOrEqual(1);

      // Exact: Valkey evaluated the burst before its first ACK arrived, so the key is free again
      // from that arrival + T at the latest; no denial may have been sent after that moment.
      if (passed === undefined) throw new Error("the hot key never passed again");
      const freeBy = burst[0].receivedAt + T_MS;
      expect(denials.filter((v) => v.sentAt >= freeBy)).toEqual([]);
      // ...and it did not pass early: not before the burst was sent + T.
      expect(passed.receivedAt).toBeGreaterThanOrEqual(burst[0].sentAt + T_MS);
      // It passed at the announced retry time, give or take one interval.
      const announced = firstDenial.sentAt + firstDenial.retryAfter! * 1000;
      expect(Math.abs(passed.sentAt - announced)).toBeLessThanOrEqual(T_MS);
    }, 20_000);
  });
});
