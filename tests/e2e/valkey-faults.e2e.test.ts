// Valkey a network hop away: the compiled agent talks to a real valkey-server through the fault
// proxy (tests/helpers/fault-proxy.ts), and each scenario judges the agent by its own /metrics
// and by what a HAProxy-like client saw — every NOTIFY answered exactly once, in time.
//   a) 2 ms ± 1 ms added to each round trip: decisions stay on Valkey.
//   b) a link slower than the default deadline: the failure policy decides, within the deadline.
//   c) a 10 s blackhole (a partition: connections stay up, nothing answers) under load behind a
//      real HAProxy, then healing: the breaker opens and closes, decisions return to Valkey, and
//      HAProxy never hits `timeout processing`.
//   e) connections reset mid-batch: no ACK lost, none sent twice.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { type AgentProcess, startAgent } from "../helpers/agent-process.ts";
import { FaultProxyProcess } from "../helpers/fault-proxy-process.ts";
import {
  defaultDeadlineMs,
  delta,
  faultMetrics,
  histogramQuantile,
  type LoadResult,
  within,
  loadFor,
  quantile,
  startLoad,
  watchBreaker,
} from "../helpers/fault-scenario.ts";
import { type HaproxyProcess, spoeFrontendConfig, startHaproxy, TEST_SPOE_CONFIG, writeTempFiles } from "../helpers/haproxy.ts";
import { httpRequest } from "../helpers/http-client.ts";
import { freePort, waitFor } from "../helpers/ports.ts";
import { type AgentReply, SpopClient } from "../../src/spop/client.ts";
import { checkRateMessage, clientIp, connectSpop, openSocket, type SpopConnection } from "../helpers/spop-socket.ts";
import { startValkey, type ValkeyProcess } from "../helpers/valkey.ts";

// HAProxy's `timeout processing` in TEST_SPOE_CONFIG: an ACK later than this is an error there.
const PROCESSING_TIMEOUT_MS = 1_000;
const DEADLINE_MS = defaultDeadlineMs();
const KEYS = 2_000;
// NOTIFYs per second: paced, so the scenarios measure the network fault, not a CPU-starved loop.
const RATE = 1_000;
const keyOf = (i: number) => clientIp(1 + (i % KEYS));

let valkey: ValkeyProcess;

beforeAll(async () => {
  valkey = await startValkey();
}, 30_000);

afterAll(async () => {
  await valkey?.stop();
  if (valkey) rmSync(valkey.dir, { recursive: true, force: true });
});

/** The agent (compiled binary, default deadline and breaker) reaching Valkey only through a fault proxy. */
interface Stack {
  readonly proxy: FaultProxyProcess;
  readonly agent: AgentProcess;
  readonly agentPort: number;
  readonly metrics: string;
  connect(count: number): Promise<SpopConnection[]>;
  stop(): Promise<void>;
}

async function startStack(seed: number): Promise<Stack> {
  const proxy = await FaultProxyProcess.start(valkey.port, { seed });
  const agentPort = await freePort();
  const agent = await startAgent({
    runtime: "binary",
    args: ["serve", "--listen", `127.0.0.1:${agentPort}`, "--metrics", "127.0.0.1:0"],
    // A generous limit: the scenarios are about where decisions are made, not about denials.
    env: { VALKEY_URL: `redis://127.0.0.1:${proxy.port}`, SPOA_RATE_INTERVAL: "1000", SPOA_RATE_BURST: "1000000" },
  });
  const metrics = String((await agent.waitForLog("listening")).metrics);
  const sockets: SpopConnection[] = [];
  const connect = async (count: number) => {
    const opened = await Promise.all(Array.from({ length: count }, () => connectSpop(agentPort, { timeoutMs: PROCESSING_TIMEOUT_MS })));
    sockets.push(...opened);
    return opened;
  };
  const [probe] = await connect(1);
  await waitFor("a decision made by Valkey", async () => !(await probe.check(clientIp(0xfffff))).degraded, 10_000);
  return {
    proxy,
    agent,
    agentPort,
    metrics,
    connect,
    stop: async () => {
      for (const s of sockets) s.close();
      await agent.stop();
      await proxy.close();
    },
  };
}

function describeLatency(result: LoadResult): string {
  const ms = result.outcomes.map((o) => o.ms);
  const f = (v: number) => v.toFixed(2);
  return `${ms.length} decisions, p50 ${f(quantile(ms, 0.5))} ms, p99 ${f(quantile(ms, 0.99))} ms, max ${f(quantile(ms, 1))} ms`;
}

describe("the agent with Valkey behind a faulty network", () => {
  // On a small shared machine the CPU alone makes a few decisions miss any deadline (measured
  // here at load average 16: 0.7 % at 50 ms; in a CI run whose p50 was 15.7 ms for a 2 ms delay,
  // 1.5 %). What the link must not do is turn those misses into an open breaker: one-off
  // timeouts go to the failure policy one by one, the rest stay on Valkey. So the breaker must
  // never open here (the old breaker did at once), while the share of misses is bounded loosely:
  // the brief's target on an idle machine is ≤ 0.1 %, the bound below leaves room for a stall.
  test("a) 2 ms ± 1 ms added to each round trip: decisions stay on Valkey", async () => {
    const stack = await startStack(11);
    try {
      await stack.proxy.latency({ ms: 2, jitterMs: 1 }, "downstream");
      const sockets = await stack.connect(4);
      const before = await faultMetrics(stack.metrics);
      const result = await loadFor(sockets, 3_000, { concurrency: 4, ratePerSecond: RATE, key: keyOf });
      const d = delta(before, await faultMetrics(stack.metrics));
      const degraded = result.outcomes.filter((o) => o.degraded).length;
      console.log(
        `a) 2±1 ms: ${describeLatency(result)}; degraded ${degraded}; metrics: decisions ${d.decisions}, degraded timeout ${d.degradedTimeout} / ` +
          `breaker-open ${d.degradedBreakerOpen} / error ${d.degradedError}`,
      );

      expect(result.errors).toEqual([]);
      expect(result.outcomes.length).toBeGreaterThan(RATE);
      // Every reply from Valkey crossed the proxy's delay (at least 1 ms): the fault was in the path.
      expect(quantile(result.outcomes.filter((o) => !o.degraded).map((o) => o.ms), 0)).toBeGreaterThanOrEqual(1);
      expect(degraded).toBeLessThanOrEqual(result.outcomes.length / 20);
      expect(d.decisions).toBeGreaterThanOrEqual(result.outcomes.length);
      expect(d.degraded).toBeLessThanOrEqual(d.decisions / 20);
      expect(d.degradedBreakerOpen).toBe(0);
      expect(d.acks).toBe(d.notifies);
    } finally {
      await stack.stop();
    }
  }, 30_000);

  const slowMs = Math.max(20, 2 * DEADLINE_MS);
  test(`b) ${slowMs} ms against the default ${DEADLINE_MS} ms deadline: the failure policy decides, within the deadline`, async () => {
    const stack = await startStack(12);
    try {
      await stack.proxy.latency({ ms: slowMs }, "downstream");
      const sockets = await stack.connect(4);
      const before = await faultMetrics(stack.metrics);
      const decisionsBefore = (await histogramQuantile(stack.metrics, "spoa_decision_duration_seconds", 0.99)).buckets;
      const breaker = watchBreaker(stack.metrics);
      const result = await loadFor(sockets, 3_000, { concurrency: 4, ratePerSecond: RATE, key: keyOf });
      const states = await breaker.stop();
      const d = delta(before, await faultMetrics(stack.metrics));
      const { bound: agentP99, buckets: decisionBuckets } = await histogramQuantile(stack.metrics, "spoa_decision_duration_seconds", 0.99, decisionsBefore);
      const degraded = result.outcomes.filter((o) => o.degraded).length;
      console.log(
        `b) ${slowMs} ms, deadline ${DEADLINE_MS} ms: ${describeLatency(result)}; degraded ${degraded}; agent decision p99 ≤ ${agentP99 * 1000} ms, ${(within(decisionBuckets, (2 * DEADLINE_MS) / 1000) * 100).toFixed(1)} % within 2× the deadline; metrics: decisions ${d.decisions}, ` +
          `degraded timeout ${d.degradedTimeout} / breaker-open ${d.degradedBreakerOpen} / error ${d.degradedError}, late replies ${d.lateReplies}, breaker ${states.join("→")}`,
      );

      // Every NOTIFY was answered (within HAProxy's processing timeout), once.
      expect(result.errors).toEqual([]);
      expect(d.acks).toBe(d.notifies);
      // Valkey's answers all come too late: the failure policy made (almost) every decision — a
      // few may still win when a starved event loop fires the deadline timer late...
      expect(degraded).toBeGreaterThanOrEqual(result.outcomes.length * 0.95);
      expect(d.degraded).toBeGreaterThanOrEqual(d.decisions * 0.95);
      // ...first because the deadline passed (and Valkey's late replies were counted and dropped),
      // then without asking Valkey at all once the breaker opened.
      expect(d.degradedTimeout).toBeGreaterThan(0);
      expect(d.lateReplies).toBeGreaterThan(0);
      expect(d.degradedBreakerOpen).toBeGreaterThan(0);
      expect(states).toContain(2);
      // The agent's own clock: 95 % of decisions took at most twice the deadline (never a whole
      // slow round trip plus queueing), most of them far less once the breaker was open.
      expect(within(decisionBuckets, (2 * DEADLINE_MS) / 1000)).toBeGreaterThanOrEqual(0.95);
    } finally {
      await stack.stop();
    }
  }, 30_000);

  test("e) connections reset mid-batch: every NOTIFY answered exactly once, then Valkey decides again", async () => {
    const stack = await startStack(13);
    try {
      const before = await faultMetrics(stack.metrics);
      const connections = await Promise.all(Array.from({ length: 4 }, () => countingConnection(stack.agentPort)));
      let sent = 0;
      const running = { on: true };
      const loops = connections.map((c) => c.run(8, () => running.on, () => keyOf(sent++)));
      let resets = 0;
      for (let i = 0; i < 20; i++) {
        await Bun.sleep(150);
        resets += await stack.proxy.resetAll();
      }
      running.on = false;
      await Promise.all(loops);
      await Promise.all(connections.map((c) => c.settled(PROCESSING_TIMEOUT_MS * 2)));
      const d = delta(before, await faultMetrics(stack.metrics));

      const unanswered = connections.reduce((n, c) => n + c.unanswered(), 0);
      const twice = connections.reduce((n, c) => n + c.answeredTwice(), 0);
      const stray = connections.reduce((n, c) => n + c.stray, 0);
      const total = connections.reduce((n, c) => n + c.sent, 0);
      console.log(
        `e) ${resets} Valkey connections reset under ${total} NOTIFYs: unanswered ${unanswered}, answered twice ${twice}, stray ${stray}; ` +
          `metrics: degraded error ${d.degradedError} / timeout ${d.degradedTimeout} / breaker-open ${d.degradedBreakerOpen}, store errors ${d.storeErrors}`,
      );
      expect(resets).toBeGreaterThan(5);
      expect(total).toBeGreaterThan(500);
      expect([unanswered, twice, stray]).toEqual([0, 0, 0]);
      expect(d.notifies).toBe(total);
      expect(d.acks).toBe(total);
      // The resets really cut requests in flight: some decisions fell to the failure policy.
      expect(d.degraded).toBeGreaterThan(0);
      expect(d.storeErrors).toBeGreaterThan(0);
      expect(connections.every((c) => c.open())).toBe(true);

      const [socket] = await stack.connect(1);
      await waitFor("decisions from Valkey again", async () => !(await socket.check(keyOf(7))).degraded, 15_000);
    } finally {
      await stack.stop();
    }
  }, 40_000);
});

/** A HAProxy-side connection that counts ACKs per stream-id, so a duplicate or a loss shows. */
async function countingConnection(port: number) {
  const socket = await openSocket({ port });
  const client = new SpopClient((bytes) => socket.write(bytes));
  const acks = new Map<number, number>();
  let sent = 0;
  let stray = 0;
  let ended = false;
  let helloed = false;
  socket.on("close", () => void (ended = true));
  socket.on("error", () => void (ended = true));
  socket.on("data", (chunk: Buffer) => {
    client.receive(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length));
    for (const reply of client.replies.splice(0) as AgentReply[]) {
      if (reply.type === "agent-hello") helloed = true;
      else if (reply.type === "ack" && Number(reply.frameId) === 1 && Number(reply.streamId) <= sent) {
        acks.set(Number(reply.streamId), (acks.get(Number(reply.streamId)) ?? 0) + 1);
      } else stray++;
    }
  });
  client.hello();
  await waitFor("AGENT-HELLO", () => helloed, 5_000);
  const outstanding = () => sent - acks.size;
  return {
    get sent() {
      return sent;
    },
    get stray() {
      return stray;
    },
    open: () => !ended,
    unanswered: () => sent - acks.size,
    answeredTwice: () => [...acks.values()].filter((n) => n > 1).length,
    /** Keeps `window` NOTIFYs outstanding while `running()`. */
    async run(window: number, running: () => boolean, key: () => number) {
      while (running() && !ended) {
        while (outstanding() < window) client.notify({ streamId: ++sent, frameId: 1 }, [checkRateMessage(key())]);
        await Bun.sleep(1);
      }
    },
    /** Waits (bounded) until every NOTIFY sent has its ACK. */
    settled: (ms: number) => waitFor("every ACK", () => outstanding() === 0 || ended, ms).catch(() => undefined),
  };
}

describe("a 10 s Valkey blackhole under load behind a real HAProxy", () => {
  let stack: Stack;
  let haproxy: HaproxyProcess;
  let frontendPort = 0;

  beforeAll(async () => {
    stack = await startStack(14);
    frontendPort = await freePort();
    const files = writeTempFiles({ "spoe.conf": TEST_SPOE_CONFIG });
    const cfg = writeTempFiles({ "haproxy.cfg": spoeFrontendConfig({ frontendPort, server: `127.0.0.1:${stack.agentPort}`, spoeFile: files["spoe.conf"], rules: FAULT_RULES }) });
    haproxy = await startHaproxy({ configFile: cfg["haproxy.cfg"], waitPort: frontendPort });
    await waitFor("HAProxy to pass a request", async () => (await httpRequest({ port: frontendPort })).status === 200, 10_000);
  }, 60_000);

  afterAll(async () => {
    await haproxy?.stop();
    await stack?.stop();
  });

  test("c) no NOTIFY unanswered, the breaker opens and closes, decisions return to Valkey, HAProxy never times out", async () => {
    const sockets = await stack.connect(2);
    const before = await faultMetrics(stack.metrics);
    const breaker = watchBreaker(stack.metrics);
    const spop = startLoad(sockets, { concurrency: 4, ratePerSecond: RATE / 2, key: keyOf });
    const http = httpLoad(frontendPort, 4, RATE / 4);

    await Bun.sleep(1_000);
    await stack.proxy.blackhole(true);
    const blackholedAt = performance.now();
    await Bun.sleep(10_000);
    const heldAtHeal = (await stack.proxy.stats()).held;
    await stack.proxy.heal();
    const healedAt = performance.now();
    await waitFor("decisions from Valkey again", async () => !(await sockets[0].check(keyOf(3))).degraded, 25_000);
    const recoveredAt = performance.now();
    await Bun.sleep(1_000);
    const result = await spop.stop();
    const statuses = await http.stop();
    const states = await breaker.stop();
    const d = delta(before, await faultMetrics(stack.metrics));

    const during = result.outcomes.filter((o) => o.at > blackholedAt + 100 && o.at < healedAt);
    const after = result.outcomes.filter((o) => o.at > recoveredAt + 100);
    const byStatus = Object.fromEntries([...new Set(statuses)].map((s) => [s, statuses.filter((x) => x === s).length]));
    console.log(
      `c) blackhole 10 s: ${describeLatency(result)}; during: ${during.length} decisions, ${during.filter((o) => o.degraded).length} degraded, ` +
        `p99 ${quantile(during.map((o) => o.ms), 0.99).toFixed(2)} ms; held at heal ${heldAtHeal} B; back on Valkey ${((recoveredAt - healedAt) / 1000).toFixed(1)} s after healing; ` +
        `breaker ${states.join("→")}; HTTP ${JSON.stringify(byStatus)}; metrics: decisions ${d.decisions}, degraded ${d.degraded} ` +
        `(timeout ${d.degradedTimeout}, breaker-open ${d.degradedBreakerOpen}, error ${d.degradedError}), late replies ${d.lateReplies}`,
    );

    // No NOTIFY unanswered: not from our clients, not from HAProxy (its ACK count matches too).
    expect(result.errors).toEqual([]);
    expect(d.acks).toBe(d.notifies);
    // HAProxy never ran into `timeout processing`: no request saw the set-on-error variable.
    expect(statuses.length).toBeGreaterThan(100);
    expect(Object.keys(byStatus).filter((s) => s !== "200" && s !== "429")).toEqual([]);
    // The partition was real (bytes were held) and decided by the failure policy.
    expect(heldAtHeal).toBeGreaterThan(0);
    expect(during.length).toBeGreaterThan(100);
    expect(during.filter((o) => o.degraded).length).toBeGreaterThanOrEqual(during.length * 0.99);
    // The breaker opened during the blackhole and closed after it; the log says so too.
    expect(states).toContain(2);
    expect(states.lastIndexOf(0)).toBeGreaterThan(states.indexOf(2));
    const changes = stack.agent.logs().filter((l) => l.msg === "circuit breaker changed").map((l) => String(l.state));
    expect(changes).toContain("open");
    expect(changes.lastIndexOf("closed")).toBeGreaterThan(changes.indexOf("open"));
    // Decisions came from Valkey again (CPU noise on a small machine may still cost a few).
    expect(after.length).toBeGreaterThan(100);
    expect(after.filter((o) => !o.degraded).length).toBeGreaterThanOrEqual(after.length * 0.9);
  }, 55_000);
});

/** `concurrency` loops of HTTP requests through HAProxy (at most `perSecond` in all) from a few client addresses; returns the statuses (0 = failed). */
function httpLoad(port: number, concurrency: number, perSecond: number): { stop(): Promise<number[]> } {
  const statuses: number[] = [];
  const startedAt = performance.now();
  let running = true;
  let sent = 0;
  const loops = Array.from({ length: concurrency }, async (_, n) => {
    for (let i = 0; running; i++) {
      const wait = startedAt + (sent++ * 1000) / perSecond - performance.now();
      if (wait > 0) await Bun.sleep(wait);
      try {
        const response = await httpRequest({ port, localAddress: `127.0.0.${1 + ((n + i) % 8)}` }, PROCESSING_TIMEOUT_MS * 3);
        statuses.push(response.status);
      } catch {
        statuses.push(0);
      }
    }
  });
  return {
    stop: async () => {
      running = false;
      await Promise.all(loops);
      return statuses;
    },
  };
}

/** HAProxy asks the agent about each request; a SPOE error (set-on-error) answers 503 so the test sees it. */
const FAULT_RULES = [
  `http-request return status 503 content-type text/plain string "spoe error" if { var(txn.rl.err) -m found }`,
  `http-request return status 429 content-type text/plain string "Too Many Requests" if { var(sess.rl.ip_score) -m int ge 80 }`,
  `http-request return status 200 content-type text/plain string "ok"`,
];
