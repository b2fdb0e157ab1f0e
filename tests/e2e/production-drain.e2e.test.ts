// Issue 5 end to end: SIGTERM during load, as Kubernetes sends it. Every NOTIFY written before
// the signal is ACKed, then each connection gets AGENT-DISCONNECT 0 and a clean close; while the
// agent drains, new connections are refused; it exits 0 within the grace period. A second
// signal ends it at once, non-zero. Under bun, deno and the compiled binary.
// (NOTIFYs still in the socket when the signal lands are answered thanks to the connection's
// DRAIN_QUIET_MS read window before its final DISCONNECT.)
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { DisconnectStatus } from "../../src/spop/types.ts";
import { type AgentProcess, type AgentRuntime, startAgent } from "../helpers/agent-process.ts";
import { freePort, waitFor } from "../helpers/ports.ts";
import { portOf, scrape, valueOf } from "../helpers/prometheus.ts";
import { clientIp, connectSpop, openSocket, type SpopConnection, withDeadline } from "../helpers/spop-socket.ts";
import { connectMany, startLoad } from "../helpers/spop-load.ts";
import { startValkey, type ValkeyProcess } from "../helpers/valkey.ts";

const GRACE_MS = 8_000;
// Longer than the wait of every step below, so "answered" can only mean "answered by the deadline path".
const VALKEY_DEADLINE_MS = 1_500;
const PAUSE_MS = 3_000;

/** Every connection: all NOTIFYs ACKed, then AGENT-DISCONNECT 0 as the very last frame, then a clean close. */
async function expectCleanDrain(connections: readonly SpopConnection[], timeoutMs: number): Promise<void> {
  const ends = await withDeadline(Promise.all(connections.map((c) => c.ended)), timeoutMs, "every connection to be closed by the agent");
  for (const [i, c] of connections.entries()) {
    const unanswered = c.sent.filter((id) => !c.acked.has(id));
    expect({ connection: i, unanswered }).toEqual({ connection: i, unanswered: [] });
    expect(c.disconnect).toEqual({ status: DisconnectStatus.NORMAL, message: expect.any(String) });
    expect(c.framesAfterDisconnect).toBe(0);
    expect(ends[i]).toEqual({});
  }
}

/**
 * Connection attempts once draining began: the listener goes away (ECONNREFUSED soon), and an
 * attempt that still reached the old listen queue is never served (no AGENT-HELLO).
 */
async function expectRefused(port: number): Promise<void> {
  const deadline = Date.now() + 3_000;
  for (;;) {
    const late = await connectSpop({ port }, { timeoutMs: 500 }).then(
      (c) => c,
      (error: NodeJS.ErrnoException) => error,
    );
    if (!(late instanceof Error)) {
      late.destroy();
      throw new Error("a connection made after SIGTERM completed its HELLO");
    }
    if (late.code === "ECONNREFUSED") return;
    if (Date.now() > deadline) throw new Error(`new connections were not refused: last attempt ended with ${late.message}`);
    await Bun.sleep(20);
  }
}

for (const runtime of ["bun", "deno", "binary"] as const satisfies readonly AgentRuntime[]) {
  describe(`graceful shutdown under ${runtime}`, () => {
    test("SIGTERM in the middle of load: every NOTIFY sent before it is ACKed, then DISCONNECT 0, exit 0", async () => {
      const port = await freePort();
      const agent = await startAgent({ runtime, args: ["serve", "--listen", `127.0.0.1:${port}`, "--shutdown-grace", String(GRACE_MS)] });
      const connections = await connectMany({ port }, 8).catch(async (error) => {
        await agent.stop();
        throw error;
      });
      try {
        const load = startLoad(connections, { window: 16, keys: 500 });
        await waitFor("load to be running", () => load.acked() >= 1_500, 15_000);
        // Fill every window, stop writing and signal in the same tick: NOTIFYs are in flight, and
        // each one written so far was sent before the signal. (A fast agent may have answered all
        // of them between two refill ticks, hence the explicit top-up.)
        load.topUp();
        load.stop();
        const sentBefore = load.sent();
        agent.signal("SIGTERM");
        expect(sentBefore - load.acked()).toBeGreaterThan(0);

        await expectCleanDrain(connections, GRACE_MS);
        expect(load.acked()).toBe(sentBefore);
        expect(await withDeadline(agent.exited, GRACE_MS, "the agent to exit")).toBe(0);
        expect(agent.logs().map((l) => l.msg)).toContain("stopped");
        await expect(openSocket({ port }, 1_000)).rejects.toMatchObject({ code: "ECONNREFUSED" });
      } finally {
        for (const c of connections) c.destroy();
        await agent.stop();
      }
    }, 40_000);
  });
}

// With NOTIFYs held in flight (Valkey paused), the drain window is long enough to watch.
for (const runtime of ["bun", "deno"] as const satisfies readonly AgentRuntime[]) {
  describe(`draining with NOTIFYs in flight under ${runtime}`, () => {
    let valkey: ValkeyProcess;

    beforeAll(async () => {
      valkey = await startValkey();
    }, 20_000);

    afterAll(async () => {
      await valkey?.stop();
    });

    async function startHeld(): Promise<{ agent: AgentProcess; port: number; connections: SpopConnection[]; held: number }> {
      const port = await freePort();
      const agent = await startAgent({
        runtime,
        args: [
          "serve", "--listen", `127.0.0.1:${port}`, "--metrics", "127.0.0.1:0", "--shutdown-grace", String(GRACE_MS),
          "--valkey-url", valkey.url, "--valkey-deadline", String(VALKEY_DEADLINE_MS), "--failure-policy", "local",
        ],
      });
      const metricsPort = portOf(String((await agent.waitForLog("listening")).metrics));
      const connections = await connectMany({ port }, 3);
      // Warm up: decisions come from Valkey.
      for (const c of connections) c.notify(clientIp(1));
      await Promise.all(connections.map((c) => c.waitForAcks(1, 5_000)));
      // WRITE mode holds the limiter script but lets valkey-cli UNPAUSE through at cleanup.
      await valkey.cli("CLIENT", "PAUSE", String(PAUSE_MS), "WRITE");
      for (const [i, c] of connections.entries()) for (let k = 0; k < 10; k++) c.notify(clientIp(1_000 + i * 100 + k));
      const held = connections.length * 10;
      await waitFor("NOTIFYs to be held in flight", async () => valueOf(await scrape(metricsPort), "spoa_notifies_in_flight") === held, 5_000);
      return { agent, port, connections, held };
    }

    test("in-flight NOTIFYs are still answered, new connections are refused meanwhile, exit 0", async () => {
      const { agent, port, connections } = await startHeld();
      try {
        agent.signal("SIGTERM");
        await agent.waitForLog("draining", 5_000);
        await expectRefused(port);
        // Still draining: the held NOTIFYs have not been answered yet.
        expect(connections.every((c) => c.disconnect === undefined)).toBe(true);
        await expectCleanDrain(connections, GRACE_MS);
        expect(await withDeadline(agent.exited, GRACE_MS, "the agent to exit")).toBe(0);
      } finally {
        for (const c of connections) c.destroy();
        await agent.stop();
        await valkey.cli("CLIENT", "UNPAUSE");
      }
    }, 40_000);

    test("a second SIGTERM while draining exits at once with a non-zero code", async () => {
      const { agent, connections, held } = await startHeld();
      try {
        agent.signal("SIGTERM");
        await agent.waitForLog("draining", 5_000);
        agent.signal("SIGTERM");
        const code = await withDeadline(agent.exited, VALKEY_DEADLINE_MS, "the agent to exit on the second signal");
        expect(code).not.toBe(0);
        // "At once": it did not wait for the held NOTIFYs (their deadline has not passed).
        const answered = connections.reduce((n, c) => n + c.acked.size, 0) - connections.length;
        expect(answered).toBeLessThan(held);
        expect(agent.logs().map((l) => l.msg)).toContain("second signal: exiting now");
      } finally {
        for (const c of connections) c.destroy();
        await agent.stop();
        await valkey.cli("CLIENT", "UNPAUSE");
      }
    }, 40_000);
  });
}
