// A Valkey that forgets everything while the agent is under load — SCRIPT FLUSH,
// and a valkey-server killed and started again without persistence (an empty restart). Paced
// load of 500 NOTIFY/s on two connections; judged by what the HAProxy-side sockets received
// and by what Valkey counted: every NOTIFY answered, NOSCRIPT answered with one SCRIPT LOAD per
// connection (never per call), and the state lost is only budgets
// made fresh — a client that had spent its burst gets a new one, nobody stays denied.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { delta, faultMetrics, startLoad } from "../helpers/fault-scenario.ts";
import { getPath, portOf } from "../helpers/prometheus.ts";
import { waitFor } from "../helpers/ports.ts";
import { clientIp } from "../helpers/spop-socket.ts";
import { type AgentOnValkey, changeWindow, describeWindow, scriptStats, startAgentOnValkey } from "../helpers/valkey-change.ts";
import { startValkey, VALKEY_VERSIONS, valkeyLabel, type ValkeyProcess } from "../helpers/valkey.ts";

const RATE = 500;
const KEYS = 2_000;
// The store's default pipelined connections per node: one SCRIPT LOAD each is the floor.
const CONNECTIONS = 2;
// 1 request per 10 s, burst 3: the load's clients (one request per 4 s each) use their burst
// slowly; a witness that spent its burst would stay denied for 10 s — unless its state is lost.
const LIMIT = { intervalUs: 10_000_000, burstUs: 20_000_000 };
const BURST = 3;
const loadKey = (i: number) => clientIp(1 + (i % KEYS));

let valkey: ValkeyProcess;
let stack: AgentOnValkey;

for (const valkeyVersion of VALKEY_VERSIONS) describe(valkeyLabel(valkeyVersion), () => {
  beforeAll(async () => {
    valkey = await startValkey({ version: valkeyVersion });
    stack = await startAgentOnValkey({ env: { VALKEY_URL: valkey.url }, connections: 2, limit: LIMIT });
  }, 30_000);

  afterAll(async () => {
    await stack?.stop();
    await valkey?.stop();
    if (valkey) rmSync(valkey.dir, { recursive: true, force: true });
  });

  describe("the agent while Valkey forgets everything under load", () => {
    test("SCRIPT FLUSH under load: one SCRIPT LOAD per connection, no EVAL, every NOTIFY answered by Valkey", async () => {
      const before = await scriptStats(valkey.cli);
      const metricsBefore = await faultMetrics(stack.metrics);
      const load = startLoad(stack.sockets, { concurrency: 4, ratePerSecond: RATE, key: loadKey });
      await Bun.sleep(1_000);
      expect(await valkey.cli("SCRIPT", "FLUSH")).toBe("OK");
      const flushedAt = performance.now();
      await Bun.sleep(2_000);
      const result = await load.stop();
      const after = await scriptStats(valkey.cli);
      const d = delta(metricsBefore, await faultMetrics(stack.metrics));
      const window = changeWindow(result.outcomes, flushedAt);
      console.log(
        `SCRIPT FLUSH at ${RATE}/s (${valkeyLabel(valkeyVersion)}): ${describeWindow(window)}; Valkey counted ${after.evalsha - before.evalsha} EVALSHA, ` +
          `${after.noscript - before.noscript} NOSCRIPT, ${after.scriptLoad - before.scriptLoad} SCRIPT LOAD, ${after.eval - before.eval} EVAL`,
      );

      expect(result.errors).toEqual([]);
      expect(d.acks).toBe(d.notifies);
      // The flush really hit calls in flight...
      expect(after.noscript - before.noscript).toBeGreaterThan(0);
      // ...and cost one SCRIPT LOAD per connection, not one per call or per batch. (The source
      // goes with EVAL only after a second NOSCRIPT; EVAL itself is not counted here, because the
      // top lists' exchange, valkey/top-exchange.ts, sends its own small script with EVAL.)
      expect(after.scriptLoad - before.scriptLoad).toBeLessThanOrEqual(CONNECTIONS);
      // NOSCRIPT answers only the calls already on the wire when the flush came: a handful.
      expect(after.noscript - before.noscript).toBeLessThanOrEqual(4 * CONNECTIONS);
      // Invisible to the decisions (a starved CPU may still cost one or two a deadline).
      expect(window.degraded).toBeLessThanOrEqual(result.outcomes.length / 100);
    }, 20_000);

    test("an empty restart under load: every NOTIFY answered, back on Valkey within 3 s, spent budgets come back fresh", async () => {
      // Witnesses spend their whole burst (no denial yet, so nothing is in the deny cache).
      const witnesses = Array.from({ length: 10 }, (_, j) => clientIp(200_000 + j));
      for (const w of witnesses) {
        for (let i = 0; i < BURST; i++) expect((await stack.sockets[0].check(w)).allowed).toBe(true);
      }
      const logsBefore = stack.agent.logs().length;
      const metricsBefore = await faultMetrics(stack.metrics);
      const load = startLoad(stack.sockets, { concurrency: 4, ratePerSecond: RATE, key: loadKey });
      await Bun.sleep(1_000);
      await valkey.stop("SIGKILL");
      const killedAt = performance.now();
      await valkey.restart();
      const restartedMs = performance.now() - killedAt;
      const readyDuring = await getPath(portOf(stack.metrics), "/readyz");
      await waitFor("decisions from Valkey again", async () => !(await stack.sockets[0].check(clientIp(300_000))).degraded, 10_000);
      await Bun.sleep(1_000);
      const result = await load.stop();
      const d = delta(metricsBefore, await faultMetrics(stack.metrics));
      const stats = await scriptStats(valkey.cli); // counted since the restart
      const window = changeWindow(result.outcomes, killedAt);
      const warnings = stack.agent.logs().slice(logsBefore).filter((l) => l.level === "warn" || l.level === "error");
      console.log(
        `empty restart at ${RATE}/s (${valkeyLabel(valkeyVersion)}): Valkey down ${restartedMs.toFixed(0)} ms; ${describeWindow(window)}; ` +
          `degraded by reason: error ${d.degradedError}, breaker-open ${d.degradedBreakerOpen}, timeout ${d.degradedTimeout}; ` +
          `after the restart Valkey counted ${stats.scriptLoad} SCRIPT LOAD, ${stats.noscript} NOSCRIPT, ${stats.eval} EVAL; ` +
          `${warnings.length} warn/error log lines (${[...new Set(warnings.map((l) => String(l.msg)))].join("; ")}); /readyz during: ${readyDuring.status}`,
      );

      expect(result.errors).toEqual([]);
      expect(d.acks).toBe(d.notifies);
      expect(window.degraded).toBeGreaterThan(0);
      expect(window.backOnValkeyMs).toBeLessThan(3_000);
      // The restarted server learned the script once per socket — node-redis's connections and
      // the lean script path's (valkey/pipeline), one each per node — on reconnect or on the
      // first NOSCRIPT when a call beat it there; never once per call.
      expect(stats.scriptLoad).toBeLessThanOrEqual(2 * CONNECTIONS);
      expect(stats.noscript).toBeLessThanOrEqual(2 * CONNECTIONS);
      // `local` keeps deciding, so the agent stays ready throughout.
      expect(readyDuring.status).toBe(200);
      expect((await getPath(portOf(stack.metrics), "/readyz")).status).toBe(200);
      // The only loss: each witness's spent burst is fresh again — allowed, by Valkey.
      const after = await Promise.all(witnesses.map((w) => stack.sockets[1].check(w)));
      expect(after.map((v) => [v.allowed, v.degraded])).toEqual(witnesses.map(() => [true, false]));
      // A throttled handful of lines, not one per degraded decision.
      expect(warnings.length).toBeLessThanOrEqual(12);
    }, 25_000);
  });
});
