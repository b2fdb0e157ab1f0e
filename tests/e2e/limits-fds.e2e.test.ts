// Descriptor exhaustion under `ulimit -n 64`: HAProxy-like connections beyond the limit wait in
// the listen backlog; the agent logs it (throttled) and counts it, keeps serving the connections
// it has, and accepts the waiting ones once descriptors free up — under Bun (which retries the
// accept silently: seen through the descriptor sampler), the compiled binary and Deno (which
// reports every failed accept: spoa_accept_errors_total{code="EMFILE"}).
import { describe, expect, test } from "bun:test";
import { connect, type Socket } from "node:net";
import type { AgentRuntime } from "../helpers/agent-process.ts";
import { freePort, waitFor } from "../helpers/ports.ts";
import { scrape, sumOf, valueOf } from "../helpers/prometheus.ts";
import { helloFrame } from "../../src/spop/client.ts";
import { clientIp } from "../helpers/spop-socket.ts";
import { connectMany } from "../helpers/spop-load.ts";
import { startWrappedAgent } from "../helpers/wrapped-agent.ts";

const NOFILE = 64;
const SERVED = 20;
const EXTRA = 80;

/** A socket that sent HAPROXY-HELLO and notes when the first reply byte arrives. */
interface Pending {
  readonly socket: Socket;
  answered: boolean;
}

function pendingHello(port: number): Pending {
  const socket = connect({ host: "127.0.0.1", port });
  const pending: Pending = { socket, answered: false };
  socket.on("error", () => {});
  socket.on("connect", () => socket.write(helloFrame()));
  socket.once("data", () => (pending.answered = true));
  return pending;
}

for (const runtime of ["bun", "binary", "deno"] as const satisfies readonly AgentRuntime[]) {
  describe(`descriptor exhaustion (${runtime}, ulimit -n ${NOFILE})`, () => {
    test("at the limit: logged once, counted, old connections served; waiting ones accepted when descriptors free up", async () => {
      const port = await freePort();
      const metrics = await freePort();
      const agent = await startWrappedAgent(runtime, `ulimit -n ${NOFILE}`, ["serve", "--listen", `127.0.0.1:${port}`, "--metrics", `127.0.0.1:${metrics}`]);
      const pending: Pending[] = [];
      const served = await connectMany({ port }, SERVED, { batch: SERVED });
      try {
        for (let i = 0; i < EXTRA; i++) pending.push(pendingHello(port));
        await waitFor("the descriptor-limit warning", () => agent.logs.some((l) => l.msg === "file descriptor limit reached: new HAProxy connections wait in the listen backlog"), 10_000);
        const waiting = () => pending.filter((p) => !p.answered).length;
        const waitingAtLimit = waiting();
        expect(waitingAtLimit).toBeGreaterThan(0);

        // The connections it already has still get every decision.
        for (const [i, c] of served.entries()) c.notify(clientIp(i));
        await Promise.all(served.map((c) => c.waitForAcks(1, 5_000)));

        // Free descriptors: the waiting connections are accepted and answered. Each answered one
        // is closed in turn (HAProxy closing idle connections), freeing room for the next.
        for (const c of served) c.destroy();
        const closeAnswered = () => {
          for (const p of pending) if (p.answered && !p.socket.destroyed) p.socket.destroy();
          return waiting() === 0;
        };
        await waitFor("every waiting connection answered", closeAnswered, 20_000).catch((error) => {
          throw new Error(`${error} (${waiting()} of ${EXTRA} still waiting)`);
        });
        await waitFor("the agent to notice", () => agent.logs.some((l) => l.msg === "file descriptors available again"), 10_000);
        for (const p of pending) p.socket.destroy();

        await Bun.sleep(200);
        const families = await scrape(metrics);
        const warnings = agent.logs.filter((l) => String(l.msg).startsWith("file descriptor limit reached")).length;
        const acceptErrors = sumOf(families, "spoa_accept_errors_total");
        console.log(`${runtime}: ${waitingAtLimit} of ${EXTRA} connections waited at the limit; spoa_fd_limit_reached_total ` +
          `${valueOf(families, "spoa_fd_limit_reached_total")}, spoa_accept_errors_total ${acceptErrors}, warnings logged ${warnings}`);
        expect(valueOf(families, "spoa_process_max_fds")).toBe(NOFILE);
        expect(valueOf(families, "spoa_fd_limit_reached_total")).toBeGreaterThanOrEqual(1);
        expect(warnings).toBeLessThanOrEqual(2);
        if (runtime === "deno") expect(valueOf(families, "spoa_accept_errors_total", { code: "EMFILE" })).toBeGreaterThan(0);
        expect(await agent.aliveAfter(0)).toBe(true);
      } finally {
        for (const c of served) c.destroy();
        for (const p of pending) p.socket.destroy();
        await agent.kill();
      }
    }, 60_000);
  });
}
