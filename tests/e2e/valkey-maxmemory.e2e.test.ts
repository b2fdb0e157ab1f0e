// A full Valkey. maxmemory set 512 KiB above what the server uses, then filled
// under load by clients that each arrive once (each a new key): with `noeviction` the script's
// writes are refused (OOM) — what the agent decides, counts, logs and tells /readyz, and how it
// comes back once memory is freed; with `volatile-ttl` Valkey evicts the keys nearest their
// expiry (those closest to a full budget) and the agent keeps deciding on Valkey, while
// clients that spent their burst keep their state. Also measures Valkey's bytes per key.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { delta, faultMetrics, startLoad } from "../helpers/fault-scenario.ts";
import { getPath, portOf } from "../helpers/prometheus.ts";
import { waitFor } from "../helpers/ports.ts";
import { clientIp } from "../helpers/spop-socket.ts";
import { type AgentOnValkey, scriptStats, startAgentOnValkey } from "../helpers/valkey-change.ts";
import { startValkey, VALKEY_VERSIONS, valkeyLabel, type ValkeyProcess } from "../helpers/valkey.ts";

const RATE = 1_000;
const HEADROOM = 512 << 10;
// 1 request a minute, burst 3: a client's key lives 60 s after one request, 180 s after three.
const LIMIT = { intervalUs: 60_000_000, burstUs: 120_000_000 };
const BURST = 3;

let valkey: ValkeyProcess;
let stack: AgentOnValkey;
let nextClient = 1;

async function info(field: string): Promise<number> {
  const text = `${await valkey.cli("INFO", "memory")}\n${await valkey.cli("INFO", "stats")}`;
  return Number(new RegExp(`^${field}:(\\d+)`, "m").exec(text)?.[1] ?? Number.NaN);
}

/** Caps memory at what the server uses now plus HEADROOM, under `policy`. */
async function capMemory(policy: string): Promise<number> {
  await valkey.cli("CONFIG", "SET", "maxmemory-policy", policy);
  const cap = (await info("used_memory")) + HEADROOM;
  await valkey.cli("CONFIG", "SET", "maxmemory", String(cap));
  return cap;
}

/** Spends the burst of `count` fresh clients (no denial, so nothing in the deny cache). */
async function spendBursts(count: number): Promise<number[]> {
  const clients = Array.from({ length: count }, () => clientIp(nextClient++));
  for (const c of clients) for (let i = 0; i < BURST; i++) expect((await stack.sockets[0].check(c)).allowed).toBe(true);
  return clients;
}

/** New clients, one request each, at RATE until `until()` or `maxMs`. */
async function fill(until: () => Promise<boolean>, maxMs: number) {
  const first = nextClient;
  const load = startLoad(stack.sockets, { concurrency: 4, ratePerSecond: RATE, key: (i) => clientIp(first + i) });
  const deadline = performance.now() + maxMs;
  while (performance.now() < deadline && !(await until())) await Bun.sleep(100);
  await Bun.sleep(1_000);
  const result = await load.stop();
  nextClient = first + result.outcomes.length + result.errors.length + 100;
  return result;
}

for (const valkeyVersion of VALKEY_VERSIONS) describe(valkeyLabel(valkeyVersion), () => {
  beforeAll(async () => {
    valkey = await startValkey({ version: valkeyVersion });
    stack = await startAgentOnValkey({ env: { VALKEY_URL: valkey.url }, limit: LIMIT });
  }, 30_000);

  afterAll(async () => {
    await stack?.stop();
    await valkey?.stop();
    if (valkey) rmSync(valkey.dir, { recursive: true, force: true });
  });

  describe("the agent when Valkey's memory is full", () => {
    test("noeviction: refused writes go to the failure policy (error, then breaker-open), logged with OOM, ready; back on Valkey once memory is freed", async () => {
      const keysBefore = Number(await valkey.cli("DBSIZE"));
      const usedBefore = await info("used_memory");
      const cap = await capMemory("noeviction");
      const before = await faultMetrics(stack.metrics);
      const logsBefore = stack.agent.logs().length;
      const result = await fill(async () => (await scriptStats(valkey.cli)).oom > 0, 15_000);
      const d = delta(before, await faultMetrics(stack.metrics));
      const ready = await getPath(portOf(stack.metrics), "/readyz");
      const keys = Number(await valkey.cli("DBSIZE"));
      const bytesPerKey = ((await info("used_memory")) - usedBefore) / (keys - keysBefore);
      const oomLines = stack.agent.logs().slice(logsBefore).filter((l) => l.level === "warn" && /OOM/.test(JSON.stringify(l)));
      const degraded = result.outcomes.filter((o) => o.degraded).length;
      console.log(
        `noeviction (${valkeyLabel(valkeyVersion)}): cap ${cap} B; ${keys - keysBefore} keys written before it was full, ~${bytesPerKey.toFixed(0)} B per key; ` +
          `${result.outcomes.length} decisions, ${degraded} degraded (error ${d.degradedError}, breaker-open ${d.degradedBreakerOpen}, timeout ${d.degradedTimeout}); ` +
          `breaker ${d.breakerState}; ${oomLines.length} warn lines naming OOM, e.g. ${JSON.stringify(oomLines[0]?.msg)}; /readyz ${ready.status} ${ready.body}`,
      );

      expect(result.errors).toEqual([]);
      expect(d.acks).toBe(d.notifies);
      expect(d.degradedError).toBeGreaterThan(0);
      expect(oomLines.length).toBeGreaterThan(0);
      expect(oomLines.length).toBeLessThanOrEqual(10);
      // `local` still decides every request, and /readyz says why decisions are degraded.
      expect(ready.status).toBe(200);
      expect(bytesPerKey).toBeGreaterThan(50);
      expect(bytesPerKey).toBeLessThan(400);

      // Memory freed (here by lifting the cap; in production keys expiring or a bigger cap):
      // decisions return to Valkey with the breaker's next probe.
      await valkey.cli("CONFIG", "SET", "maxmemory", "0");
      const freedAt = performance.now();
      await waitFor("decisions from Valkey again", async () => !(await stack.sockets[0].check(clientIp(nextClient++))).degraded, 10_000);
      console.log(`noeviction (${valkeyLabel(valkeyVersion)}): back on Valkey ${(performance.now() - freedAt).toFixed(0)} ms after memory was freed`);
      await valkey.cli("FLUSHALL");
    }, 40_000);

    test("volatile-ttl: Valkey evicts the keys nearest a full budget, every decision stays on Valkey, spent bursts survive", async () => {
      const witnesses = await spendBursts(10);
      const cap = await capMemory("volatile-ttl");
      const before = await faultMetrics(stack.metrics);
      const evictedBefore = await info("evicted_keys");
      const logsBefore = stack.agent.logs().length;
      const result = await fill(async () => (await info("evicted_keys")) - evictedBefore > 1_000, 15_000);
      const d = delta(before, await faultMetrics(stack.metrics));
      const evicted = (await info("evicted_keys")) - evictedBefore;
      const used = await info("used_memory");
      const warnings = stack.agent.logs().slice(logsBefore).filter((l) => l.level === "warn");
      const degraded = result.outcomes.filter((o) => o.degraded).length;
      console.log(
        `volatile-ttl (${valkeyLabel(valkeyVersion)}): cap ${cap} B, used ${used} B; ${evicted} keys evicted; ${result.outcomes.length} decisions, ${degraded} degraded; ` +
          `${warnings.length} warn lines; /readyz ${(await getPath(portOf(stack.metrics), "/readyz")).status}`,
      );

      expect(result.errors).toEqual([]);
      expect(d.acks).toBe(d.notifies);
      expect(evicted).toBeGreaterThan(1_000);
      expect(d.degradedError).toBe(0);
      expect(degraded).toBeLessThanOrEqual(result.outcomes.length / 100);
      // The witnesses' keys live 180 s, the fill's 60 s: eviction took the fill's, so the
      // witnesses are still denied — by Valkey.
      const after = await Promise.all(witnesses.map((w) => stack.sockets[1].check(w)));
      expect(after.map((v) => [v.allowed, v.degraded])).toEqual(witnesses.map(() => [false, false]));
      await valkey.cli("CONFIG", "SET", "maxmemory", "0");
    }, 40_000);
  });
});
