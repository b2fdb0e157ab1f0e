// Issue 3 end to end: Valkey misbehaving under a running agent. SCRIPT FLUSH is invisible; a
// killed valkey-server costs no crash and no hang — every NOTIFY is still answered in time by
// the failure policy (`local` decides in memory, `deny` denies), the outage is logged a few
// times rather than once per request and shows on /metrics — and after a restart on the same
// port, decisions come from Valkey again.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { type AgentProcess, startAgent } from "../helpers/agent-process.ts";
import { freePort, waitFor } from "../helpers/ports.ts";
import { clientIp, connectSpop, type SpopConnection, type Verdict } from "../helpers/spop-socket.ts";
import { metricSum } from "../helpers/prometheus.ts";
import { startValkey, VALKEY_VERSIONS, valkeyLabel, type ValkeyProcess } from "../helpers/valkey.ts";

// 1 request/s, burst 3: a fresh key passes 3 at once, and no replenishment during a test step.
const INTERVAL_US = 1_000_000;
const BURST_US = 2_000_000;
const BURST = 3;
const DEADLINE_MS = 500;
// "Within the deadline + margin": the socket helper fails any NOTIFY not ACKed by then.
const ACK_TIMEOUT_MS = DEADLINE_MS + 1_000;
const OUTAGE_LOG_MSGS = ["store unavailable: failure policy decided", "store error", "Valkey connection error", "Valkey call failed"];

let valkey: ValkeyProcess;
let local: AgentProcess;
let deny: AgentProcess;
let localSocket: SpopConnection;
let denySocket: SpopConnection;
let metricsAddress = "";
let nextKey = 1;
const freshKey = () => clientIp(nextKey++);

async function start(runtime: "binary" | "bun", policy: "local" | "deny"): Promise<{ agent: AgentProcess; socket: SpopConnection }> {
  const port = await freePort();
  const agent = await startAgent({
    runtime,
    args: [
      "serve", "--listen", `127.0.0.1:${port}`, "--valkey-url", valkey.url, "--valkey-deadline", String(DEADLINE_MS),
      "--failure-policy", policy, "--metrics", "127.0.0.1:0",
    ],
    env: { SPOA_RATE_INTERVAL: String(INTERVAL_US), SPOA_RATE_BURST: String(BURST_US) },
  });
  const socket = await connectSpop(port, { timeoutMs: ACK_TIMEOUT_MS });
  await waitFor("a decision made by Valkey", async () => !(await socket.check(freshKey())).degraded, 10_000);
  return { agent, socket };
}

/** Sends one request every `everyMs` until stopped; collects verdicts and any missing ACK. */
function background(socket: SpopConnection, everyMs: number) {
  const verdicts: Verdict[] = [];
  const errors: string[] = [];
  let running = true;
  const done = (async () => {
    const inFlight: Promise<void>[] = [];
    for (let i = 0; running && i < 2_000; i++) {
      inFlight.push(socket.check(clientIp(50_000 + (i % 20))).then((v) => void verdicts.push(v), (e: Error) => void errors.push(e.message)));
      await Bun.sleep(everyMs);
    }
    await Promise.all(inFlight);
  })();
  return {
    verdicts,
    errors,
    stop: async () => {
      running = false;
      await done;
    },
  };
}

function outageLogLines(agent: AgentProcess): number {
  return agent.logs().filter((l) => l.level === "warn" && OUTAGE_LOG_MSGS.includes(String(l.msg))).length;
}

for (const valkeyVersion of VALKEY_VERSIONS) describe(valkeyLabel(valkeyVersion), () => {
  beforeAll(async () => {
    valkey = await startValkey({ version: valkeyVersion });
    [{ agent: local, socket: localSocket }, { agent: deny, socket: denySocket }] = await Promise.all([start("binary", "local"), start("bun", "deny")]);
    metricsAddress = String((await local.waitForLog("listening")).metrics);
  }, 60_000);

  afterAll(async () => {
    localSocket?.close();
    denySocket?.close();
    await Promise.all([local?.stop(), deny?.stop()]);
    await valkey?.stop();
    if (valkey) rmSync(valkey.dir, { recursive: true, force: true });
  });

  describe("the agent while Valkey misbehaves", () => {
    test("SCRIPT FLUSH mid-run is invisible: every decision still comes from Valkey", async () => {
      const evalsBefore = await valkey.cli("INFO", "commandstats");
      const verdicts: Verdict[] = [];
      for (let i = 0; i < 20; i++) {
        if (i === 10) expect(await valkey.cli("SCRIPT", "FLUSH")).toBe("OK");
        verdicts.push(await localSocket.check(freshKey()));
      }
      expect(verdicts.map((v) => [v.allowed, v.degraded])).toEqual(verdicts.map(() => [true, false]));
      // The flush really happened: the store saw NOSCRIPT and cached the script again (SCRIPT LOAD).
      const loads = (text: string) => Number(/cmdstat_script\|load:calls=(\d+)/.exec(text)?.[1] ?? 0);
      expect(loads(await valkey.cli("INFO", "commandstats"))).toBeGreaterThan(loads(evalsBefore));
    }, 15_000);

    test("a killed valkey-server: every NOTIFY is answered in time by the failure policy, then Valkey decides again after a restart", async () => {
      const logLinesBefore = outageLogLines(local);
      const loops = [background(localSocket, 10), background(denySocket, 10)];
      await Bun.sleep(300);
      await valkey.stop("SIGKILL");

      // The breaker opens: an outage no longer costs a deadline per request.
      await waitFor("spoa_circuit_breaker_state 2", async () => (await metricSum(metricsAddress, "spoa_circuit_breaker_state")) === 2, 10_000);
      expect(await metricSum(metricsAddress, "spoa_degraded_decisions_total")).toBeGreaterThan(0);

      // `local`: the in-memory limiter decides, with the same limit, and says so.
      const localBurst = await Promise.all(Array.from({ length: BURST + 2 }, (_, __, key = clientIp(90_000)) => localSocket.check(key)));
      expect(localBurst.map((v) => [v.allowed, v.degraded])).toEqual([
        ...Array.from({ length: BURST }, () => [true, true]),
        [false, true],
        [false, true],
      ]);
      expect(localBurst[BURST].retryAfter).toBeGreaterThanOrEqual(1);
      // `deny`: a fresh key is denied, with a short retry.
      const denied = await denySocket.check(freshKey());
      expect([denied.allowed, denied.degraded, denied.ipScore, denied.retryAfter]).toEqual([false, true, 100, 1]);
      await Bun.sleep(300);

      await valkey.restart();
      for (const socket of [localSocket, denySocket]) {
        await waitFor("decisions from Valkey again", async () => {
          const v = await socket.check(freshKey());
          return v.allowed && !v.degraded;
        }, 10_000);
      }
      // A loop's request sent while the breaker was still open may be answered just after the
      // probe closed it: let the loops run on Valkey a moment before judging their last verdict.
      await Bun.sleep(300);
      await Promise.all(loops.map((l) => l.stop()));

      for (const loop of loops) {
        expect(loop.errors).toEqual([]);
        expect(loop.verdicts.filter((v) => v.degraded).length).toBeGreaterThan(20);
        // Back to normal at the end: the last decisions came from Valkey.
        expect(loop.verdicts.at(-1)?.degraded).toBe(false);
      }
      // The deny policy only ever denied while degraded.
      expect(loops[1].verdicts.filter((v) => v.degraded && v.allowed)).toEqual([]);
      expect(await metricSum(metricsAddress, "spoa_circuit_breaker_state")).toBe(0);

      // A throttled warning per kind of trouble, not one per degraded request.
      const degradedCount = loops[0].verdicts.filter((v) => v.degraded).length;
      const lines = outageLogLines(local) - logLinesBefore;
      expect(lines).toBeGreaterThan(0);
      expect(lines).toBeLessThanOrEqual(10);
      expect(degradedCount).toBeGreaterThan(4 * lines);
      expect(local.logs().some((l) => l.msg === "circuit breaker changed" && l.state === "open")).toBe(true);
      // Neither process died.
      expect(await Promise.race([local.exited, deny.exited, Bun.sleep(50).then(() => "alive")])).toBe("alive");
    }, 40_000);
  });
});
