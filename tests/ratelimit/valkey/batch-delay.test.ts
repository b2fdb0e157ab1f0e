// store.valkey.batchDelayMs: requests that arrive in different event-loop turns within the delay
// share one script call (a real valkey-server; calls counted by INFO commandstats).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import type { Clock, Decision, LimitCheck } from "../../../src/ratelimit/store.ts";
import { createValkeyStore } from "../../../src/ratelimit/valkey/store.ts";
import { startValkey, type ValkeyProcess } from "../../helpers/valkey.ts";

const clock: Clock = { nowUs: () => Date.now() * 1000 };
let valkey: ValkeyProcess;
beforeAll(async () => {
  valkey = await startValkey();
});
afterAll(async () => {
  await valkey?.stop();
  if (valkey) rmSync(valkey.dir, { recursive: true, force: true });
});

const check = (n: number): LimitCheck[] => [{ key: `{c${n}}:a`, params: { emissionIntervalUs: 1_000, burstToleranceUs: 1_000_000 }, cost: 1, shadow: false }];
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

async function scriptCalls(): Promise<number> {
  return Number(/cmdstat_evalsha:calls=(\d+)/.exec(await valkey.cli("INFO", "commandstats"))?.[1] ?? 0);
}

describe("batchDelayMs", () => {
  test("five requests in five event-loop turns within the delay: one script call, five decisions", async () => {
    const store = await createValkeyStore({ url: valkey.url, keyPrefix: "bd:", deadlineMs: 2000, connections: 1, batch: true, batchDelayMs: 20 }, { clock });
    try {
      const before = await scriptCalls();
      const answers: (Decision | Promise<Decision>)[] = [];
      for (let i = 0; i < 5; i++) {
        answers.push(store.check(check(i)));
        await nextTurn();
      }
      const decisions = await Promise.all(answers);
      expect(decisions.map((d) => d.allowed)).toEqual([true, true, true, true, true]);
      expect((await scriptCalls()) - before).toBe(1);
    } finally {
      await store.close();
    }
  });

  test("without a delay the same requests go one call per turn", async () => {
    const store = await createValkeyStore({ url: valkey.url, keyPrefix: "nd:", deadlineMs: 2000, connections: 8, batch: true }, { clock });
    try {
      const before = await scriptCalls();
      const answers: (Decision | Promise<Decision>)[] = [];
      for (let i = 0; i < 5; i++) {
        answers.push(store.check(check(i)));
        await nextTurn();
      }
      await Promise.all(answers);
      expect((await scriptCalls()) - before).toBeGreaterThan(1);
    } finally {
      await store.close();
    }
  });
});
