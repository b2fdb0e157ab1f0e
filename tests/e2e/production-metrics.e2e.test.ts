// Issue 5 end to end: what an SRE scrapes. /metrics is valid Prometheus text and its counters
// equal the traffic the test sent; /healthz and /readyz answer; with Valkey behind the agent,
// readiness follows the failure policy (deny: not ready while Valkey is down; local: ready, and
// the breaker state shows on /metrics).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { DisconnectStatus, FrameFlag, FrameType } from "../../src/spop/types.ts";
import { type AgentProcess, startAgent } from "../helpers/agent-process.ts";
import { httpRequest } from "../helpers/http-client.ts";
import { freePort, waitFor } from "../helpers/ports.ts";
import { getPath, portOf, scrape, sumOf, valueOf } from "../helpers/prometheus.ts";
import { rawFrame } from "../../src/spop/client.ts";
import { clientIp, connectSpop, type SpopConnection, withDeadline } from "../helpers/spop-socket.ts";
import { startValkey, type ValkeyProcess } from "../helpers/valkey.ts";

const CONNECTIONS = 3;
const NOTIFIES = 600;
const KEYS = 60;
// 1/s with burst 5 per key: 10 NOTIFYs per key make both allows and denies.
const RATE = ["--rate-interval", "1000000", "--rate-burst", "4000000"];

async function startWithMetrics(args: readonly string[]): Promise<{ agent: AgentProcess; spopPort: number; metricsPort: number }> {
  const spopPort = await freePort();
  const agent = await startAgent({ runtime: "bun", args: ["serve", "--listen", `127.0.0.1:${spopPort}`, "--metrics", "127.0.0.1:0", ...args] });
  const listening = await agent.waitForLog("listening");
  return { agent, spopPort, metricsPort: portOf(String(listening.metrics)) };
}

describe("/metrics, /healthz and /readyz of a running in-memory agent", () => {
  let agent: AgentProcess;
  let spopPort = 0;
  let metricsPort = 0;
  const connections: SpopConnection[] = [];

  beforeAll(async () => {
    ({ agent, spopPort, metricsPort } = await startWithMetrics(RATE));
  }, 30_000);

  afterAll(async () => {
    for (const c of connections) c.destroy();
    await agent?.stop();
  });

  test("/healthz answers 200 ok and /readyz 200 ready once listening", async () => {
    const health = await getPath(metricsPort, "/healthz");
    expect(health.status).toBe(200);
    expect(JSON.parse(health.body)).toEqual({ status: "ok" });
    const ready = await getPath(metricsPort, "/readyz");
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.body)).toEqual({ status: "ready" });
  });

  test(`${NOTIFIES} NOTIFYs over ${CONNECTIONS} connections show up exactly in the counters`, async () => {
    for (let i = 0; i < CONNECTIONS; i++) connections.push(await connectSpop({ port: spopPort }));
    for (let i = 0; i < NOTIFIES; i++) connections[i % CONNECTIONS].notify(clientIp(i % KEYS));
    await Promise.all(connections.map((c) => c.waitForAcks(NOTIFIES / CONNECTIONS, 10_000)));
    const denied = connections.reduce((n, c) => n + c.denied, 0);
    expect(denied).toBeGreaterThan(0);
    expect(denied).toBeLessThan(NOTIFIES);

    const m = await scrape(metricsPort);
    expect(valueOf(m, "spoa_frames_received_total", { type: "notify" })).toBe(NOTIFIES);
    expect(valueOf(m, "spoa_frames_received_total", { type: "haproxy_hello" })).toBe(CONNECTIONS);
    expect(valueOf(m, "spoa_frames_sent_total", { type: "ack" })).toBe(NOTIFIES);
    expect(valueOf(m, "spoa_frames_sent_total", { type: "agent_hello" })).toBe(CONNECTIONS);
    expect(sumOf(m, "spoa_decisions_total")).toBe(NOTIFIES);
    expect(sumOf(m, "spoa_decisions_total", { result: "deny" })).toBe(denied);
    expect(sumOf(m, "spoa_decisions_total", { result: "allow" })).toBe(NOTIFIES - denied);
    expect(valueOf(m, "spoa_decision_duration_seconds_count")).toBe(NOTIFIES);
    expect(valueOf(m, "spoa_connections_accepted_total")).toBe(CONNECTIONS);
    expect(valueOf(m, "spoa_connections_open")).toBe(CONNECTIONS);
    expect(valueOf(m, "spoa_notifies_in_flight")).toBe(0);
    expect(valueOf(m, "spoa_process_pid")).toBe(agent.pid);
    expect(sumOf(m, "spoa_build_info", { runtime: "bun" })).toBe(1);
  }, 30_000);

  test("a fragmented frame costs its connection an AGENT-DISCONNECT 10, counted by status", async () => {
    const bad = await connectSpop({ port: spopPort });
    bad.client.sendRaw(rawFrame(FrameType.NOTIFY, { flags: 0, idBytes: new Uint8Array([1, 1]) }));
    const end = await withDeadline(bad.ended, 5_000, "the agent to close the bad connection");
    expect(end.error).toBeUndefined();
    expect(bad.disconnect?.status).toBe(DisconnectStatus.FRAGMENTATION_NOT_SUPPORTED);

    // A clean HAPROXY-DISCONNECT from one of the good connections is counted on the other side.
    const leaving = connections.pop();
    leaving?.client.disconnect(0, "bye");
    await withDeadline(leaving?.ended ?? Promise.resolve({}), 5_000, "the agent to close after HAPROXY-DISCONNECT");

    await waitFor("connections_open to settle", async () => valueOf(await scrape(metricsPort), "spoa_connections_open") === CONNECTIONS - 1, 5_000);
    const m = await scrape(metricsPort);
    expect(valueOf(m, "spoa_connections_accepted_total")).toBe(CONNECTIONS + 1);
    expect(valueOf(m, "spoa_disconnects_sent_total", { status: "10" })).toBe(1);
    expect(valueOf(m, "spoa_disconnects_sent_total", { status: "0" })).toBe(1);
    expect(valueOf(m, "spoa_disconnects_received_total", { status: "0" })).toBe(1);
    expect(sumOf(m, "spoa_disconnects_sent_total")).toBe(2);
    expect(valueOf(m, "spoa_frames_sent_total", { type: "agent_disconnect" })).toBe(2);
    expect(valueOf(m, "spoa_frames_received_total", { type: "haproxy_disconnect" })).toBe(1);
    // The fragment was received (and counted as a NOTIFY) but never decided.
    expect(sumOf(m, "spoa_decisions_total")).toBe(NOTIFIES);
  }, 20_000);

  test("the observability port answers 404 elsewhere and 405 to a POST", async () => {
    expect((await getPath(metricsPort, "/nope")).status).toBe(404);
    expect((await httpRequest({ port: metricsPort, path: "/metrics", method: "POST" })).status).toBe(405);
  });
});

describe("readiness follows Valkey and the failure policy", () => {
  let valkey: ValkeyProcess;
  let deny: { agent: AgentProcess; spopPort: number; metricsPort: number };
  let local: { agent: AgentProcess; spopPort: number; metricsPort: number };
  let denyConn: SpopConnection;
  let localConn: SpopConnection;
  let key = 1;

  // A NOTIFY with a fresh key: the breaker only learns of an outage through decisions.
  const poke = async (c: SpopConnection) => {
    const before = c.acked.size;
    c.notify(clientIp(100_000 + key++));
    await c.waitForAcks(before + 1, 3_000);
  };

  beforeAll(async () => {
    valkey = await startValkey();
    const common = ["--valkey-url", valkey.url, "--valkey-deadline", "200"];
    [deny, local] = await Promise.all([
      startWithMetrics([...common, "--failure-policy", "deny"]),
      startWithMetrics([...common, "--failure-policy", "local"]),
    ]);
    denyConn = await connectSpop({ port: deny.spopPort });
    localConn = await connectSpop({ port: local.spopPort });
  }, 60_000);

  afterAll(async () => {
    denyConn?.destroy();
    localConn?.destroy();
    await Promise.all([deny?.agent.stop(), local?.agent.stop()]);
    await valkey?.stop();
  });

  test("deny: /readyz 200 → 503 while Valkey is down → 200 after it returns; local stays ready with the breaker on /metrics", async () => {
    await poke(denyConn);
    await poke(localConn);
    expect((await getPath(deny.metricsPort, "/readyz")).status).toBe(200);
    expect(valueOf(await scrape(local.metricsPort), "spoa_circuit_breaker_state")).toBe(0);

    await valkey.stop();
    await waitFor("the deny agent to report not ready", async () => {
      await poke(denyConn);
      return (await getPath(deny.metricsPort, "/readyz")).status === 503;
    }, 10_000);
    const notReady = await getPath(deny.metricsPort, "/readyz");
    expect(JSON.parse(notReady.body)).toMatchObject({ status: "not ready" });
    expect(String(JSON.parse(notReady.body).reason)).toContain("deny");

    await waitFor("the local agent's breaker to leave closed", async () => {
      await poke(localConn);
      return valueOf(await scrape(local.metricsPort), "spoa_circuit_breaker_state") > 0;
    }, 10_000);
    expect((await getPath(local.metricsPort, "/readyz")).status).toBe(200);
    expect(sumOf(await scrape(local.metricsPort), "spoa_degraded_decisions_total")).toBeGreaterThan(0);

    await valkey.restart();
    // The breaker closes on the first successful probe, which only traffic makes.
    await waitFor("the deny agent to be ready again", async () => {
      await poke(denyConn);
      return (await getPath(deny.metricsPort, "/readyz")).status === 200;
    }, 40_000);
    await waitFor("the local agent's breaker to close", async () => {
      await poke(localConn);
      return valueOf(await scrape(local.metricsPort), "spoa_circuit_breaker_state") === 0;
    }, 40_000);
  }, 90_000);
});
