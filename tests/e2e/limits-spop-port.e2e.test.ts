// The SPOP port is unauthenticated: the agent warns when it listens beyond loopback, and with
// allowedPeers it closes connections from other peers before reading a frame. Loopback has a
// whole /8, so a client bound to 127.0.0.2 is a peer outside "127.0.0.1/32".
import { describe, expect, test } from "bun:test";
import { connect, type Socket } from "node:net";
import { type AgentRuntime, startAgent } from "../helpers/agent-process.ts";
import { freePort } from "../helpers/ports.ts";
import { scrape, valueOf } from "../helpers/prometheus.ts";
import { helloFrame } from "../../src/spop/client.ts";

/** Connects from `localAddress`, sends HAPROXY-HELLO, and reports what came back before the close. */
function helloFrom(port: number, localAddress: string): Promise<{ bytes: number; closed: boolean }> {
  return new Promise((resolve, reject) => {
    let bytes = 0;
    const socket: Socket = connect({ host: "127.0.0.1", port, localAddress });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ bytes, closed: false });
    }, 1_500);
    socket.on("connect", () => socket.write(helloFrame()));
    socket.on("data", (chunk) => {
      bytes += chunk.length;
      clearTimeout(timer);
      socket.destroy();
      resolve({ bytes, closed: false });
    });
    // A refused peer may see a reset (its HELLO was unread when the agent closed): still a close.
    socket.on("error", (error: NodeJS.ErrnoException) => error.code === "ECONNREFUSED" && reject(error));
    socket.on("close", () => {
      clearTimeout(timer);
      resolve({ bytes, closed: true });
    });
  });
}

for (const runtime of ["bun", "deno"] as const satisfies readonly AgentRuntime[]) {
  describe(`SPOP port exposure (${runtime})`, () => {
    test("listening on 0.0.0.0 logs the unauthenticated-port warning; 127.0.0.1 does not", async () => {
      const open = await startAgent({ runtime, args: ["serve", "--listen", `0.0.0.0:${await freePort()}`] });
      const loopback = await startAgent({ runtime, args: ["serve", "--listen", `127.0.0.1:${await freePort()}`] });
      try {
        const warning = open.logs().find((l) => l.msg === "SPOP port reachable beyond loopback");
        expect(warning?.level).toBe("warn");
        expect(String(warning?.advice)).toContain("no authentication");
        expect(loopback.logs().some((l) => l.msg === "SPOP port reachable beyond loopback")).toBe(false);
      } finally {
        await open.stop();
        await loopback.stop();
      }
    }, 30_000);

    test("allowedPeers 127.0.0.1/32: a peer at 127.0.0.2 is closed without AGENT-HELLO and counted, 127.0.0.1 is served", async () => {
      const port = await freePort();
      const metrics = await freePort();
      const agent = await startAgent({
        runtime,
        args: ["serve", "--listen", `127.0.0.1:${port}`, "--allow-peer", "127.0.0.1/32", "--metrics", `127.0.0.1:${metrics}`],
      });
      try {
        const outsider = await helloFrom(port, "127.0.0.2");
        const insider = await helloFrom(port, "127.0.0.1");
        expect(outsider).toEqual({ bytes: 0, closed: true });
        expect(insider.bytes).toBeGreaterThan(0);
        const families = await scrape(metrics);
        expect(valueOf(families, "spoa_connections_refused_total")).toBe(1);
        expect(valueOf(families, "spoa_connections_accepted_total")).toBe(1);
        await agent.waitForLog("refused an SPOP connection from a peer outside allowedPeers", 5_000);
      } finally {
        await agent.stop();
      }
    }, 30_000);
  });
}
