// Issue 2 end to end, on every HAProxy version (2.6, 3.0, 3.2, 3.4): a real HAProxy asks the
// agent (bun, deno, compiled binary) about each request; one client exceeding its burst gets
// exactly the 429s GCRA predicts, another client is unaffected, `option spop-check` sees the
// agent UP, and with the agent gone requests pass (fail open).
import { expect, test } from "bun:test";
import type { AgentRuntime } from "../helpers/agent-process.ts";
import { haproxyLabel, waitForAgentUp } from "../helpers/haproxy.ts";
import { httpRequest } from "../helpers/http-client.ts";
import { describeStacks, stackMatrix } from "../helpers/stack.ts";

// One request per second with a 4 s tolerance: a fresh client may send τ/T + 1 = 5 requests at
// once. The test's requests take a few ms in all, far below T, so replenishment cannot blur the count.
const RATE_INTERVAL_US = 1_000_000;
const RATE_BURST_US = 4_000_000;
const BURST = RATE_BURST_US / RATE_INTERVAL_US + 1;
const EXTRA = 6;

const RULES = [
  'http-request return status 429 content-type text/plain string "Too Many Requests" hdr Retry-After "%[var(txn.rl.retry_after)]" if { var(sess.rl.ip_score) -m int ge 80 }',
  'http-request return status 200 content-type text/plain string "ok"',
];

const RUNTIMES = ["bun", "deno", "binary"] as const satisfies readonly AgentRuntime[];
const SCENARIO = { rules: RULES, env: { SPOA_RATE_INTERVAL: String(RATE_INTERVAL_US), SPOA_RATE_BURST: String(RATE_BURST_US) } };

describeStacks("in-memory agent", stackMatrix({ runtimes: RUNTIMES }), SCENARIO, (stack, { version, runtime }) => {
  test(`a client sending burst+${EXTRA} requests gets ${EXTRA} 429s with Retry-After, a second client none`, async () => {
    const statuses: number[] = [];
    const retryAfters: string[] = [];
    for (let i = 0; i < BURST + EXTRA; i++) {
      const response = await httpRequest({ port: stack().frontendPort, localAddress: "127.0.0.1" });
      statuses.push(response.status);
      if (response.status === 429) retryAfters.push(response.headers.get("retry-after") ?? "");
    }
    const denied = statuses.filter((s) => s === 429).length;
    console.log(`${haproxyLabel(version)}, ${runtime}: ${denied} × 429 of ${BURST + EXTRA} requests (GCRA predicts ${EXTRA})`);
    expect(statuses.filter((s) => s !== 200 && s !== 429)).toEqual([]);
    expect(statuses).toEqual([...Array<number>(BURST).fill(200), ...Array<number>(EXTRA).fill(429)]);
    // Denials write nothing, so every one of them waits for the same next slot, T = 1 s away.
    expect(retryAfters).toEqual(Array<string>(EXTRA).fill("1"));

    const other = await httpRequest({ port: stack().frontendPort, localAddress: "127.0.0.2" });
    expect(other.status).toBe(200);
  }, 30_000);

  test("a spoofed X-Forwarded-For from an untrusted source does not buy a new key", async () => {
    const response = await httpRequest({
      port: stack().frontendPort,
      localAddress: "127.0.0.1",
      headers: { "X-Forwarded-For": "198.51.100.77" },
    });
    expect(response.status).toBe(429);
  }, 30_000);

  test("option spop-check sees the agent UP (L7OK)", async () => {
    const stat = await waitForAgentUp(stack().haproxy, "be_spoa", "spoa1");
    expect([stat.status, stat.checkStatus]).toEqual(["UP", "L7OK"]);
  }, 30_000);

  test("with the agent stopped, requests pass (fail open)", async () => {
    await stack().agent.stop();
    const response = await httpRequest({ port: stack().frontendPort, localAddress: "127.0.0.1" });
    expect(response.status).toBe(200);
  }, 30_000);
});
