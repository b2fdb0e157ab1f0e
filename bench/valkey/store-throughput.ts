// Decisions/s of one ValkeyStore against one local valkey-server, with and without micro-batching.
// Closed loop: `concurrency` decisions in flight, 1000 identities, 2 checks per request.
// Run: ./node_modules/.bin/bun bench/valkey/store-throughput.ts [decisions=40000] [concurrency=256]
import { rmSync } from "node:fs";
import { createValkeyStore } from "../../src/ratelimit/valkey/store.ts";
import { startValkey } from "../../tests/helpers/valkey.ts";

const total = Number(process.argv[2] ?? 40_000);
const concurrency = Number(process.argv[3] ?? 256);
const server = await startValkey();
const params = { emissionIntervalUs: 1_000, burstToleranceUs: 100_000 };
try {
  for (const batch of [false, true]) {
    const store = await createValkeyStore(
      { url: server.url, keyPrefix: `bench${batch}:`, deadlineMs: 1000, connections: 2, batch },
      { clock: { nowUs: () => Date.now() * 1000 } },
    );
    let next = 0;
    let errors = 0;
    const worker = async () => {
      while (next < total) {
        const i = next++;
        try {
          await store.check([
            { key: `{c${i % 1000}}:a`, params, cost: 1, shadow: false },
            { key: `{c${i % 1000}}:b`, params, cost: 1, shadow: true },
          ]);
        } catch {
          errors++;
        }
      }
    };
    const start = performance.now();
    await Promise.all(Array.from({ length: concurrency }, worker));
    const seconds = (performance.now() - start) / 1000;
    console.log(`batch=${batch} decisions=${total} concurrency=${concurrency} ${Math.round(total / seconds)} decisions/s errors=${errors} late=${store.lateReplies}`);
    await store.close();
  }
} finally {
  await server.stop();
  rmSync(server.dir, { recursive: true, force: true });
}
