// One hot key from three agents (in-process stores, each with its own connections) against one
// valkey-server, with and without slices (src/ratelimit/valkey/hot/): script calls Valkey ran
// (EVALSHA, INFO commandstats), decisions allowed against exact GCRA, the busiest window against
// the bound B + ⌊w/T⌋ + N·S, and Valkey CPU per decision.
//
//   bun run bench/valkey/hot-key.ts [--rate 50000] [--limit 10000] [--burst 1000] [--seconds 3] [--version 8|9]
import { rmSync } from "node:fs";
import { parseArgs } from "node:util";
import type { Clock, LimiterStore } from "../../src/ratelimit/store.ts";
import { HotSliceStore, type ScriptRunner } from "../../src/ratelimit/valkey/hot/hot-slices.ts";
import { createValkeyStore } from "../../src/ratelimit/valkey/store.ts";
import { busiestWindow } from "../../tests/helpers/busiest-window.ts";
import { startValkey, type ValkeyVersion } from "../../tests/helpers/valkey.ts";

const { values } = parseArgs({
  options: {
    rate: { type: "string", default: "50000" },
    limit: { type: "string", default: "10000" },
    burst: { type: "string", default: "1000" },
    seconds: { type: "string", default: "3" },
    version: { type: "string", default: "8" },
  },
});
const AGENTS = 3;
const clock: Clock = { nowUs: () => Math.round(performance.timeOrigin * 1000 + performance.now() * 1000) };
const T = Math.round(1e6 / Number(values.limit));
const B = Number(values.burst);
const params = { emissionIntervalUs: T, burstToleranceUs: (B - 1) * T };
const server = await startValkey({ version: values.version as ValkeyVersion });

async function info(section: string, field: RegExp): Promise<number> {
  return Number(field.exec(await server.cli("INFO", section))?.[1] ?? 0);
}
const evalsha = () => info("commandstats", /cmdstat_evalsha:calls=(\d+)/);
const cpu = async () => (await info("cpu", /used_cpu_sys:([0-9.]+)/)) + (await info("cpu", /used_cpu_user:([0-9.]+)/));


/** Allowed by the failure policy or a hot key's share (not Valkey): outside the bound. */
let degraded = 0;

async function run(slices: boolean, round: number) {
  const stores: (LimiterStore & { stats?: HotSliceStore["stats"] })[] = [];
  for (let i = 0; i < AGENTS; i++) {
    const valkey = await createValkeyStore({ url: server.url, keyPrefix: `hk${round}:`, deadlineMs: 200, connections: 2, batch: true }, { clock });
    stores.push(slices ? new HotSliceStore(valkey as ScriptRunner, { thresholdPerS: 1000, agentId: `a${i}`, clock, deadlineMs: 200 }) : valkey);
  }
  const key = "{api-key-1}:api:0";
  // Warm-up: one second, so the key is hot (slices) and connections are up (both).
  const perAgent = Number(values.rate) / AGENTS;
  const drive = async (store: LimiterStore, seconds: number, allowedAt: number[] | undefined) => {
    const start = clock.nowUs();
    let sent = 0;
    const pending: Promise<unknown>[] = [];
    while (clock.nowUs() - start < seconds * 1e6) {
      const due = Math.floor(((clock.nowUs() - start) / 1e6) * perAgent);
      for (; sent < due; sent++) {
        pending.push(Promise.resolve(store.check([{ key, params, cost: 1, shadow: false }])).then((d) => {
          if (d.allowed && !d.degraded) allowedAt?.push(clock.nowUs());
          else if (d.allowed) degraded++;
        }, () => undefined));
      }
      await new Promise((r) => setImmediate(r));
    }
    await Promise.all(pending);
    return sent;
  };
  await Promise.all(stores.map((s) => drive(s, 1, undefined)));
  const calls0 = await evalsha();
  const cpu0 = await cpu();
  const allowedAt: number[] = [];
  degraded = 0;
  const t0 = clock.nowUs();
  const sent = (await Promise.all(stores.map((s) => drive(s, Number(values.seconds), allowedAt)))).reduce((a, b) => a + b, 0);
  const elapsedUs = clock.nowUs() - t0;
  const calls = (await evalsha()) - calls0;
  const valkeyUs = (((await cpu()) - cpu0) * 1e6) / sent;
  const S = Math.max(0, ...stores.map((s) => s.stats?.largestSlice ?? 0));
  for (const s of stores) await s.close();
  allowedAt.sort((a, b) => a - b);
  const windows = [10_000, 100_000, 1_000_000].map((w) => ({ w, most: busiestWindow(allowedAt, w), exact: B + Math.floor(w / T), bound: B + Math.floor(w / T) + AGENTS * S }));
  return { slices, degraded, sent, perS: sent / (elapsedUs / 1e6), allowed: allowedAt.length, exact: B + Math.floor(elapsedUs / T), calls, valkeyUs, S, windows };
}

try {
  const rows = [await run(false, 0), await run(true, 1)];
  console.log(`one key, ${AGENTS} agents, ${values.rate}/s offered, limit ${values.limit}/s burst ${B}, Valkey ${values.version}, ${values.seconds} s`);
  console.log("| slices | decisions/s | allowed by Valkey/slices (exact GCRA) + degraded | EVALSHA calls | calls per 1000 decisions | Valkey CPU µs/decision | largest slice S | busiest 10 ms / 100 ms / 1 s (exact max; bound) |");
  console.log("|---|---:|---:|---:|---:|---:|---:|---|");
  for (const r of rows) {
    const win = r.windows.map((x) => `${x.most} (${x.exact}; ${x.bound})`).join(" / ");
    console.log(`| ${r.slices ? "on" : "off"} | ${Math.round(r.perS).toLocaleString("en")} | ${r.allowed} (${r.exact}) + ${r.degraded} | ${r.calls} | ${((r.calls * 1000) / r.sent).toFixed(1)} | ${r.valkeyUs.toFixed(2)} | ${r.S} | ${win} |`);
  }
  console.log(`script calls: ${(rows[0].calls / Math.max(1, rows[1].calls)).toFixed(1)}× fewer with slices`);
} finally {
  await server.stop();
  rmSync(server.dir, { recursive: true, force: true });
}
