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

/** Five requests, each in its own event-loop turn, on a fresh store: their decisions and the script calls they cost. */
async function fiveTurns(options: { readonly keyPrefix: string; readonly connections: number; readonly batchDelayMs?: number }) {
  const store = await createValkeyStore({ url: valkey.url, deadlineMs: 2000, batch: true, ...options }, { clock });
  try {
    const before = await scriptCalls();
    const answers: (Decision | Promise<Decision>)[] = [];
    for (let i = 0; i < 5; i++) {
      answers.push(store.check(check(i)));
      await nextTurn();
    }
    const decisions = await Promise.all(answers);
    return { decisions, calls: (await scriptCalls()) - before };
  } finally {
    await store.close();
  }
}

describe("batchDelayMs", () => {
  test("five requests in five event-loop turns within the delay: one script call, five decisions", async () => {
    const { decisions, calls } = await fiveTurns({ keyPrefix: "bd:", connections: 1, batchDelayMs: 20 });
    expect(decisions.map((d) => d.allowed)).toEqual([true, true, true, true, true]);
    expect(calls).toBe(1);
  });

  test("without a delay the same requests go one call per turn", async () => {
    expect((await fiveTurns({ keyPrefix: "nd:", connections: 8 })).calls).toBeGreaterThan(1);
  });
});
