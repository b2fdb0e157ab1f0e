// The lean script path against the classic one (node-redis, one argument per number), in one
// process against one valkey-server, rounds interleaved so all variants share the machine's mood:
// agent CPU µs per decision (process.cpuUsage), Valkey CPU µs per decision (INFO cpu), decisions/s.
// Closed loop: `concurrency` requests in flight (as 16 HAProxy connections × 20 would keep),
// 1000 identities, `checks` limits per request, micro-batching on (the default).
//
//   bun run bench/valkey/script-path.ts [--decisions 60000] [--concurrency 320] [--checks 2] [--rounds 3] [--version 8|9]
import { rmSync } from "node:fs";
import { parseArgs } from "node:util";
import { loadDialer } from "../../src/runtime/dial.ts";
import type { LimitCheck } from "../../src/ratelimit/store.ts";
import { createValkeyStore, type ValkeyStoreDeps } from "../../src/ratelimit/valkey/store.ts";
import { startValkey, type ValkeyVersion } from "../../tests/helpers/valkey.ts";

const { values } = parseArgs({
  options: {
    decisions: { type: "string", default: "60000" },
    concurrency: { type: "string", default: "320" },
    checks: { type: "string", default: "2" },
    rounds: { type: "string", default: "3" },
    version: { type: "string", default: "8" },
  },
});
const total = Number(values.decisions);
const concurrency = Number(values.concurrency);
const checkCount = Number(values.checks);
const server = await startValkey({ version: values.version as ValkeyVersion });
const native = await loadDialer();
const params = { emissionIntervalUs: 1, burstToleranceUs: 1_000_000_000 };
const variants: readonly { readonly name: string; readonly dial: ValkeyStoreDeps["dial"] }[] = [
  { name: "classic (node-redis)", dial: false },
  { name: "lean, node:net", dial: undefined },
  ...(native === undefined ? [] : [{ name: "lean, native socket", dial: native }]),
];

async function valkeyCpuS(): Promise<number> {
  const info = await server.cli("INFO", "cpu");
  const field = (name: string) => Number(new RegExp(`${name}:([0-9.]+)`).exec(info)?.[1] ?? 0);
  return field("used_cpu_sys") + field("used_cpu_user");
}

interface Row {
  readonly perS: number;
  readonly agentUs: number;
  readonly valkeyUs: number;
  readonly errors: number;
}

async function measure(dial: ValkeyStoreDeps["dial"], round: number): Promise<Row> {
  const store = await createValkeyStore(
    { url: server.url, keyPrefix: `b${round}:`, deadlineMs: 1000, connections: 2, batch: true },
    { clock: { nowUs: () => Date.now() * 1000 }, ...(dial === undefined ? {} : { dial }) },
  );
  const requests: LimitCheck[][] = Array.from({ length: 1000 }, (_, c) =>
    Array.from({ length: checkCount }, (_, i) => ({ key: `{203.0.113.${c % 250}-${c}}:limit-${i}:0a1b2c3d`, params, cost: 1, shadow: false })));
  let next = 0;
  let errors = 0;
  const worker = async (limit: number) => {
    while (next < limit) {
      const i = next++;
      try {
        await store.check(requests[i % requests.length]);
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, () => worker(total / 10))); // warm-up
  next = 0;
  const cpu0 = process.cpuUsage();
  const v0 = await valkeyCpuS();
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, () => worker(total)));
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const valkey = (await valkeyCpuS()) - v0;
  await store.close();
  return { perS: total / seconds, agentUs: (cpu.user + cpu.system) / total, valkeyUs: (valkey * 1e6) / total, errors };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
try {
  const results = new Map<string, Row[]>(variants.map((v) => [v.name, []]));
  for (let round = 0; round < Number(values.rounds); round++) {
    for (const v of variants) results.get(v.name)!.push(await measure(v.dial, round));
  }
  console.log(`Valkey ${values.version}, ${total} decisions × ${values.rounds} rounds, ${concurrency} in flight, ${checkCount} checks/request; medians`);
  console.log("| path | decisions/s | agent CPU µs/decision | Valkey CPU µs/decision | errors |");
  console.log("|---|---:|---:|---:|---:|");
  for (const [name, rows] of results) {
    console.log(`| ${name} | ${Math.round(median(rows.map((r) => r.perS))).toLocaleString("en")} | ${median(rows.map((r) => r.agentUs)).toFixed(2)} | ${median(rows.map((r) => r.valkeyUs)).toFixed(2)} | ${rows.reduce((s, r) => s + r.errors, 0)} |`);
  }
} finally {
  await server.stop();
  rmSync(server.dir, { recursive: true, force: true });
}
