// Issue 5 end to end: `--workers 2`. Two worker processes share the SPOP and metrics ports with
// SO_REUSEPORT: new connections land on both (each worker's /metrics shows its own pid and the
// SPOP connections it served), both answer SPOP, and SIGTERM to the parent stops both, exit 0.
import { describe, expect, test } from "bun:test";
import { type AgentRuntime, startAgent } from "../helpers/agent-process.ts";
import { freePort, waitFor } from "../helpers/ports.ts";
import { scrape, valueOf } from "../helpers/prometheus.ts";
import { clientIp, withDeadline } from "../helpers/spop-socket.ts";
import { connectMany } from "../helpers/spop-load.ts";

const CONNECTIONS = 24;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Scrapes until every pid in `pids` answered once; returns the latest scrape per pid. */
async function scrapeEachWorker(port: number, pids: readonly number[]): Promise<Map<number, Awaited<ReturnType<typeof scrape>>>> {
  const seen = new Map<number, Awaited<ReturnType<typeof scrape>>>();
  for (let i = 0; i < 200 && seen.size < pids.length; i++) {
    const m = await scrape(port);
    seen.set(valueOf(m, "spoa_process_pid"), m);
  }
  return seen;
}

for (const runtime of ["bun", "deno"] as const satisfies readonly AgentRuntime[]) {
  describe(`--workers 2 under ${runtime}`, () => {
    test("connections land on both workers, both answer SPOP, SIGTERM to the parent stops both with exit 0", async () => {
      const spopPort = await freePort();
      const metricsPort = await freePort();
      const agent = await startAgent({
        runtime,
        args: ["serve", "--listen", `127.0.0.1:${spopPort}`, "--metrics", `127.0.0.1:${metricsPort}`, "--workers", "2"],
      });
      const connections: Awaited<ReturnType<typeof connectMany>> = [];
      try {
        await waitFor("two workers listening", () => agent.logs().filter((l) => l.msg === "listening").length === 2, 20_000);
        const workerPids = [...new Set(agent.logs().filter((l) => l.msg === "listening").map((l) => Number(l.pid)))];
        expect(workerPids).toHaveLength(2);
        expect(workerPids).not.toContain(agent.pid);
        expect(agent.logs().filter((l) => l.msg === "worker started").map((l) => Number(l.workerPid)).sort()).toEqual([...workerPids].sort());

        const before = await scrapeEachWorker(metricsPort, workerPids);
        expect([...before.keys()].sort()).toEqual([...workerPids].sort());

        connections.push(...(await connectMany({ port: spopPort }, CONNECTIONS, { batch: 8 })));
        for (const [i, c] of connections.entries()) c.notify(clientIp(i));
        await Promise.all(connections.map((c) => c.waitForAcks(1, 5_000)));

        const after = await scrapeEachWorker(metricsPort, workerPids);
        const accepted = workerPids.map((pid) => valueOf(after.get(pid) ?? new Map(), "spoa_connections_accepted_total"));
        const notifies = workerPids.map((pid) => valueOf(after.get(pid) ?? new Map(), "spoa_frames_received_total", { type: "notify" }));
        expect(accepted.reduce((a, b) => a + b, 0)).toBe(CONNECTIONS);
        expect(notifies.reduce((a, b) => a + b, 0)).toBe(CONNECTIONS);
        for (const n of accepted) expect(n).toBeGreaterThan(0);

        agent.signal("SIGTERM");
        // Each worker drains: its connections get AGENT-DISCONNECT 0.
        await withDeadline(Promise.all(connections.map((c) => c.ended)), 10_000, "the workers to close their connections");
        expect(connections.every((c) => c.disconnect?.status === 0)).toBe(true);
        expect(await withDeadline(agent.exited, 15_000, "the parent to exit")).toBe(0);
        expect(workerPids.filter(alive)).toEqual([]);
        expect(agent.logs().filter((l) => l.msg === "stopped").map((l) => Number(l.pid)).sort()).toEqual([...workerPids].sort());
      } finally {
        for (const c of connections) c.destroy();
        await agent.stop();
      }
    }, 60_000);
  });
}
