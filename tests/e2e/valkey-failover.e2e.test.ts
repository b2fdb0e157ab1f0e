// A Sentinel failover while HAProxy sends steady load through the agent — one
// primary, one replica, three sentinels (quorum 2) on loopback. Once with SENTINEL FAILOVER
// (planned: the old primary is alive) and once with the primary SIGKILLed (the sentinels must
// notice, agree and promote). Every request is a new client, so every decision writes its own
// key: the keys missing from the promoted primary at the end are exactly the state that was
// lost (written to the old primary and never replicated). Judged by HAProxy's answers, the
// agent's /metrics and what the new primary holds.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { delta, faultMetrics } from "../helpers/fault-scenario.ts";
import type { HaproxyProcess } from "../helpers/haproxy.ts";
import { getPath, portOf } from "../helpers/prometheus.ts";
import { waitFor } from "../helpers/ports.ts";
import { type AgentOnValkey, startAgentOnValkey } from "../helpers/valkey-change.ts";
import { byStatus, startHaproxyFor, startHttpLoad } from "../helpers/valkey-haproxy.ts";
import { startSentinelTrio, type SentinelTrio } from "../helpers/valkey-sentinels.ts";
import { VALKEY_VERSIONS, valkeyLabel, type ValkeyProcess, type ValkeyVersion } from "../helpers/valkey.ts";

const RATE = 200;
// Keys live 30 s (the time back to a full burst), longer than a scenario: a key missing at the
// end was lost, not expired. Every client sends once, so every decision is an allow.
const LIMIT = { intervalUs: 30_000_000, burstUs: 60_000_000 };
// What the test holds the agent to (the figures it prints are the measurement).
const BACK_ON_VALKEY_MS = { failover: 5_000, kill: 10_000 } as const;

interface Stack {
  readonly trio: SentinelTrio;
  readonly agent: AgentOnValkey;
  readonly haproxy: HaproxyProcess;
  readonly port: number;
  stop(): Promise<void>;
}

async function startStack(version: ValkeyVersion): Promise<Stack> {
  const trio = await startSentinelTrio(version);
  let agent: AgentOnValkey | undefined;
  try {
    agent = await startAgentOnValkey({
      env: { VALKEY_SENTINELS: trio.sentinelList, VALKEY_MASTER_NAME: trio.masterName },
      args: ["--trusted-proxies", "127.0.0.1/32"],
      limit: LIMIT,
      connections: 1,
    });
    const { haproxy, port } = await startHaproxyFor(agent.port);
    const started = agent;
    return {
      trio,
      agent,
      haproxy,
      port,
      stop: async () => {
        await haproxy.stop();
        await started.stop();
        await trio.stop();
      },
    };
  } catch (error) {
    await agent?.stop();
    await trio.stop();
    throw error;
  }
}

/** Addresses whose key the server holds (keys rl:{address}:…). */
async function addressesOn(server: ValkeyProcess): Promise<Set<string>> {
  const keys = (await server.cli("KEYS", "rl:{10.64.*")).split("\n").filter((k) => k !== "");
  return new Set(keys.map((k) => k.slice(k.indexOf("{") + 1, k.indexOf("}"))));
}

/** Runs the load, applies `change` after 2 s, waits until HAProxy answers from Valkey again, and judges. */
async function underLoad(stack: Stack, kind: "failover" | "kill", change: (old: ValkeyProcess) => Promise<void>) {
  const old = await stack.trio.primary();
  const before = await faultMetrics(stack.agent.metrics);
  const logsBefore = stack.agent.agent.logs().length;
  const load = startHttpLoad(stack.port, { concurrency: 8, perSecond: RATE });
  await Bun.sleep(2_000);
  const changedAt = performance.now();
  await change(old);
  const promoted = await stack.trio.waitForNewPrimary(old, 20_000);
  const promotedMs = performance.now() - changedAt;
  const ready: number[] = [];
  // Back on Valkey: a fresh key decided by the new primary (status 200 from HAProxy, key there).
  await waitFor("decisions on the promoted primary", async () => {
    ready.push((await getPath(portOf(stack.agent.metrics), "/readyz")).status);
    const v = await stack.agent.sockets[0].check(0x0b000000 + ready.length);
    return !v.degraded;
  }, 20_000);
  const backMs = performance.now() - changedAt;
  await Bun.sleep(1_000);
  const outcomes = await load.stop();
  const d = delta(before, await faultMetrics(stack.agent.metrics));
  const onPromoted = await addressesOn(promoted);
  const decidedByValkey = outcomes.filter((o) => o.status === 200);
  const lost = decidedByValkey.filter((o) => !onPromoted.has(o.address));
  const degradedAt = outcomes.filter((o) => o.status === 203).map((o) => o.at - changedAt);
  const warnings = stack.agent.agent.logs().slice(logsBefore).filter((l) => l.level === "warn" || l.level === "error");
  console.log(
    `${kind} at ${RATE} req/s through HAProxy: promoted after ${promotedMs.toFixed(0)} ms, decisions back on Valkey ${backMs.toFixed(0)} ms after the change; ` +
      `HTTP ${JSON.stringify(byStatus(outcomes))} (203 = failure policy, from ${Math.min(...degradedAt).toFixed(0)} to ${Math.max(...degradedAt).toFixed(0)} ms); ` +
      `lost state: ${lost.length} of ${decidedByValkey.length} Valkey decisions not on the promoted primary` +
      (lost.length > 0 ? ` (answered ${Math.min(...lost.map((o) => o.at - changedAt)).toFixed(0)}…${Math.max(...lost.map((o) => o.at - changedAt)).toFixed(0)} ms from the change)` : "") +
      `; metrics: degraded error ${d.degradedError} / breaker-open ${d.degradedBreakerOpen} / timeout ${d.degradedTimeout}; /readyz ${[...new Set(ready)].join(",")}; ` +
      `${warnings.length} warn lines (${[...new Set(warnings.map((l) => String(l.msg)))].join("; ")})`,
  );
  return { outcomes, d, lost, decidedByValkey, backMs, ready, degradedAt, changedAt };
}

function judge(result: Awaited<ReturnType<typeof underLoad>>, kind: "failover" | "kill"): void {
  const counts = byStatus(result.outcomes);
  // Every request got a decision from the agent: no SPOE error, no request without variables,
  // no connection failure; and no fresh client was denied (no stuck deny from lost state).
  expect(Object.keys(counts).filter((s) => s !== "200" && s !== "203")).toEqual([]);
  expect(result.outcomes.length).toBeGreaterThan(RATE * 2);
  expect(result.d.acks).toBe(result.d.notifies);
  expect(result.backMs).toBeLessThan(BACK_ON_VALKEY_MS[kind]);
  // `local` decides while the primary changes, so the agent stays ready.
  expect(result.ready.every((s) => s === 200)).toBe(true);
  // The only loss is state the old primary took during the switch and never replicated (it
  // keeps accepting writes until the sentinels demote it): nothing decided before the change,
  // nothing after the agent moved to the promoted primary. A lost key is a fresh budget.
  const lostAt = result.lost.map((o) => o.at - result.changedAt);
  expect(lostAt.filter((ms) => ms < 0 || ms > result.backMs)).toEqual([]);
}

/** One scenario on a stack of its own (a failover leaves the sentinels busy for seconds). */
function scenario(version: ValkeyVersion, kind: "failover" | "kill", title: string, change: (stack: Stack, old: ValkeyProcess) => Promise<void>): void {
  describe(title, () => {
    let stack: Stack;
    beforeAll(async () => {
      stack = await startStack(version);
    }, 40_000);
    afterAll(async () => await stack?.stop());

    test(`${kind === "failover" ? "SENTINEL FAILOVER" : "primary SIGKILLed"} under ${RATE} req/s: every request decided, back on Valkey within ${BACK_ON_VALKEY_MS[kind] / 1000} s`, async () => {
      judge(await underLoad(stack, kind, (old) => change(stack, old)), kind);
    }, 40_000);
  });
}

for (const valkeyVersion of VALKEY_VERSIONS) describe(valkeyLabel(valkeyVersion), () => {
  scenario(valkeyVersion, "failover", "the agent through HAProxy while Sentinel fails the primary over", async (stack) => {
    expect(await stack.trio.sentinels[0].cli("SENTINEL", "FAILOVER", stack.trio.masterName)).toBe("OK");
  });
  scenario(valkeyVersion, "kill", "the agent through HAProxy while the primary is killed", (_, old) => old.stop("SIGKILL"));
});
