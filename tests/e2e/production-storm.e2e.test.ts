// Issue 5 end to end: an HAProxy reload storm. The old HAProxy's 1,000 SPOP connections leave at
// once and the new process opens 1,000 fresh ones as fast as the OS allows, each doing HELLO and
// one NOTIFY — every one is answered, and /metrics accounts for every connection.
// File descriptors: 1,000 client sockets here plus 1,000 in the agent, one process each; the
// test checks `ulimit -n` covers that (the default soft limit of 1024 would not, with headroom).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type AgentProcess, type AgentRuntime, startAgent } from "../helpers/agent-process.ts";
import { freePort, waitFor } from "../helpers/ports.ts";
import { portOf, scrape, valueOf } from "../helpers/prometheus.ts";
import { clientIp, type SpopConnection, withDeadline } from "../helpers/spop-socket.ts";
import { connectMany } from "../helpers/spop-load.ts";

const STORM = 1_000;
const BATCH = 250;

function openFileLimit(): number {
  const out = Bun.spawnSync(["sh", "-c", "ulimit -n"]).stdout.toString().trim();
  return out === "unlimited" ? Number.POSITIVE_INFINITY : Number(out);
}

/** One HAProxy process's worth of connections: HELLO, one NOTIFY each, all ACKed. */
async function storm(port: number, first: number): Promise<SpopConnection[]> {
  const connections = await connectMany({ port }, STORM, { batch: BATCH, timeoutMs: 10_000 });
  for (const [i, c] of connections.entries()) c.notify(clientIp(first + i));
  await Promise.all(connections.map((c) => c.waitForAcks(1, 10_000)));
  return connections;
}

for (const runtime of ["bun", "deno"] as const satisfies readonly AgentRuntime[]) {
  describe(`a reload storm of ${STORM} connections under ${runtime}`, () => {
    let agent: AgentProcess;
    let port = 0;
    let metricsPort = 0;
    let live: SpopConnection[] = [];

    beforeAll(async () => {
      port = await freePort();
      agent = await startAgent({ runtime, args: ["serve", "--listen", `127.0.0.1:${port}`, "--metrics", "127.0.0.1:0"] });
      metricsPort = portOf(String((await agent.waitForLog("listening")).metrics));
    }, 30_000);

    afterAll(async () => {
      for (const c of live) c.destroy();
      await agent?.stop();
    });

    test("the file-descriptor limit leaves room for the storm in each process", () => {
      expect(openFileLimit()).toBeGreaterThan(STORM + 200);
    });

    test(`${STORM} connections opened at once, each HELLO + NOTIFY, are all answered`, async () => {
      live = await storm(port, 0);
      expect(live.every((c) => c.acked.size === 1 && c.disconnect === undefined)).toBe(true);
      const m = await scrape(metricsPort);
      expect(valueOf(m, "spoa_connections_accepted_total")).toBe(STORM);
      expect(valueOf(m, "spoa_connections_open")).toBe(STORM);
      expect(valueOf(m, "spoa_frames_received_total", { type: "notify" })).toBe(STORM);
      expect(valueOf(m, "spoa_frames_sent_total", { type: "ack" })).toBe(STORM);
    }, 60_000);

    test(`the old ${STORM} leave with HAPROXY-DISCONNECT while ${STORM} new ones arrive; all answered`, async () => {
      const old = live;
      live = [];
      for (const c of old) c.client.disconnect(0);
      const leaving = Promise.all(old.map((c) => c.ended));
      live = await storm(port, STORM);
      await withDeadline(leaving, 10_000, "the old connections to be closed by the agent");
      expect(old.every((c) => c.disconnect?.status === 0)).toBe(true);
      await waitFor("connections_open to settle", async () => valueOf(await scrape(metricsPort), "spoa_connections_open") === STORM, 10_000);
      const m = await scrape(metricsPort);
      expect(valueOf(m, "spoa_connections_accepted_total")).toBe(2 * STORM);
      expect(valueOf(m, "spoa_disconnects_received_total", { status: "0" })).toBe(STORM);
      expect(valueOf(m, "spoa_frames_sent_total", { type: "ack" })).toBe(2 * STORM);
      expect(agent.logs().filter((l) => l.level === "error")).toEqual([]);
    }, 60_000);
  });
}
