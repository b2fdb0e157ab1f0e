// How each HAProxy version ends the agent connections nobody uses any more, and that the agent
// takes every such end as a normal close under every runtime (no warning, no "peer-error").
// A relay between HAProxy and the agent records how HAProxy's side ended — FIN or RST — and
// passes exactly that on. What HAProxy does (measured, asserted below):
//   health checks (option spop-check): RST after the AGENT-HELLO, on every version;
//   an idle NOTIFY connection: up to 3.0, HAPROXY-DISCONNECT at SPOE `timeout idle`, then a
//   close (FIN, or RST when the agent's AGENT-DISCONNECT is still unread: it varies run to run);
//   3.1+ ignores `timeout idle` and RSTs when it purges its idle connection pool
//   (`pool-purge-delay`, 5 s by default: ~15 s idle).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect, createServer, type Server, type Socket } from "node:net";
import { type AgentProcess, type AgentRuntime, startAgent } from "../helpers/agent-process.ts";
import {
  HAPROXY_VERSIONS,
  haproxyAtLeast,
  haproxyLabel,
  type HaproxyProcess,
  type HaproxyVersion,
  spopBackendMode,
  startHaproxy,
  writeTempFiles,
} from "../helpers/haproxy.ts";
import { httpRequest } from "../helpers/http-client.ts";
import { freePort, waitFor } from "../helpers/ports.ts";

const NORMAL_CLOSES = new Set(["peer-closed", "haproxy-disconnect"]);

const SPOE = `
[ratelimit]
spoe-agent ratelimit-agent
    messages check-rate
    option var-prefix rl
    timeout hello 2s
    timeout idle 1s
    timeout processing 1s
    use-backend be_spoa

spoe-message check-rate
    args ip_src=src
    event on-frontend-http-request
`;

/**
 * be_spoa carries the NOTIFYs and has no health check (on 3.1+ checks keep the pool from being
 * purged); be_checks only health-checks the same agent. Idle pooled connections are purged
 * every second, so 3.1+ drops an idle one within a few seconds instead of ~15.
 */
function config(version: HaproxyVersion, frontendPort: number, relayPort: number, spoeFile: string): string {
  const backend = (name: string, server: string) => `
backend ${name}
    mode ${spopBackendMode(version)}
    timeout connect 1s
    timeout server 30s
    option spop-check
    ${server}
`;
  return `
defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s

frontend fe_web
    bind 127.0.0.1:${frontendPort}
    filter spoe engine ratelimit config ${spoeFile}
    http-request return status 200 content-type text/plain string "ok"
${backend("be_spoa", `server spoa1 127.0.0.1:${relayPort}${haproxyAtLeast(version, "3.1") ? " pool-purge-delay 1s" : ""}`)}
${backend("be_checks", `server spoa1 127.0.0.1:${relayPort} check inter 500ms`)}`;
}

/** How HAProxy's side of one relayed connection ended. */
type Ending = "fin" | "rst";

interface Relay {
  readonly port: number;
  readonly checks: Ending[];
  readonly notifies: Ending[];
  close(): void;
}

/** A TCP relay to the agent that records how HAProxy ends each connection and passes it on. */
async function startRelay(agentPort: number): Promise<Relay> {
  const relay = { checks: [] as Ending[], notifies: [] as Ending[] };
  const sockets = new Set<Socket>();
  const server: Server = createServer((front) => {
    const back = connect({ host: "127.0.0.1", port: agentPort });
    for (const s of [front, back]) {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
    }
    let healthCheck: boolean | undefined;
    let ended = false;
    const record = (ending: Ending) => {
      if (ended || healthCheck === undefined) return;
      ended = true;
      (healthCheck ? relay.checks : relay.notifies).push(ending);
    };
    front.on("data", (chunk: Buffer) => {
      // A health check's HAPROXY-HELLO carries the "healthcheck" key.
      healthCheck ??= chunk.includes("healthcheck");
      back.write(chunk);
    });
    back.on("data", (chunk: Buffer) => front.write(chunk));
    front.on("end", () => {
      record("fin");
      back.end();
    });
    front.on("error", (error: NodeJS.ErrnoException) => {
      record(error.code === "ECONNRESET" ? "rst" : "fin");
      if (!back.destroyed) back.resetAndDestroy();
    });
    back.on("end", () => front.end());
    back.on("error", () => front.destroy());
  });
  const port = await freePort();
  await new Promise<void>((resolveListen) => server.listen(port, "127.0.0.1", resolveListen));
  return {
    port,
    ...relay,
    close() {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  };
}

for (const version of HAPROXY_VERSIONS) {
  for (const runtime of ["bun", "deno", "binary"] as const satisfies readonly AgentRuntime[]) {
    describe(`unused agent connections closed by ${haproxyLabel(version)} under ${runtime}`, () => {
      let agent: AgentProcess;
      let relay: Relay;
      let haproxy: HaproxyProcess;
      let frontendPort = 0;

      beforeAll(async () => {
        const agentPort = await freePort();
        agent = await startAgent({ runtime, args: ["serve", "--listen", `127.0.0.1:${agentPort}`, "--log-level", "debug"] });
        relay = await startRelay(agentPort);
        frontendPort = await freePort();
        const spoe = writeTempFiles({ "spoe.conf": SPOE });
        const cfg = writeTempFiles({ "haproxy.cfg": config(version, frontendPort, relay.port, spoe["spoe.conf"]) });
        haproxy = await startHaproxy({ version, configFile: cfg["haproxy.cfg"], waitPort: frontendPort });
      }, 60_000);

      afterAll(async () => {
        await haproxy?.stop();
        relay?.close();
        await agent?.stop();
      });

      const idleEnd = haproxyAtLeast(version, "3.1") ? "an RST from the pool purge" : "HAPROXY-DISCONNECT";
      test(`health checks end with RST, an idle NOTIFY connection with ${idleEnd}: all normal closes for the agent`, async () => {
        expect((await httpRequest({ port: frontendPort })).status).toBe(200);
        await waitFor("HAProxy to end the idle NOTIFY connection", () => relay.notifies.length > 0, 20_000);
        await waitFor("two health checks to end", () => relay.checks.length >= 2, 10_000);
        const closes = () => agent.logs().filter((l) => l.msg === "connection closed").map((l) => String(l.reason));
        // Every connection the relay saw end, the agent saw end too.
        await waitFor("the agent to log every close", () => closes().length >= relay.checks.length + relay.notifies.length, 5_000);
        console.log(
          `${haproxyLabel(version)}, ${runtime}: idle NOTIFY connection ended with ${relay.notifies.join(", ")}, ` +
            `health checks with ${[...new Set(relay.checks)].join(", ")}; agent close reasons ${JSON.stringify([...new Set(closes())])}`,
        );
        expect(new Set(relay.checks)).toEqual(new Set(["rst"]));
        if (haproxyAtLeast(version, "3.1")) expect(relay.notifies).toEqual(["rst"]);
        else expect(closes()).toContain("haproxy-disconnect");
        expect(closes().filter((reason) => !NORMAL_CLOSES.has(reason))).toEqual([]);
        expect(agent.logs().filter((l) => l.level === "warn" || l.level === "error")).toEqual([]);
      }, 40_000);
    });
  }
}
