// Issue 5 end to end: the agent on a unix socket, as in a pod where HAProxy and the agent share
// an emptyDir. A stale socket file left by a crash is replaced at start, the socket gets the
// --socket-mode bits, and a real HAProxy of every version (2.6, 3.0, 3.2, 3.4; `server spoa
// unix@/path`) gets decisions over it — 429 once a client's burst is spent — and its
// `option spop-check` sees the agent UP over the socket.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { lstatSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type AgentProcess, type AgentRuntime, startAgent } from "../helpers/agent-process.ts";
import {
  HAPROXY_VERSIONS,
  haproxyLabel,
  type HaproxyProcess,
  spoeFrontendConfig,
  startHaproxy,
  TEST_SPOE_CONFIG,
  waitForAgentUp,
  writeTempFiles,
} from "../helpers/haproxy.ts";
import { httpRequest } from "../helpers/http-client.ts";
import { freePort } from "../helpers/ports.ts";
import { clientIp, connectSpop, openSocket, withDeadline } from "../helpers/spop-socket.ts";

// 1/s with burst 5: the 6th request of a fresh client in a row is denied.
const RATE = ["--rate-interval", "1000000", "--rate-burst", "4000000"];
const BURST = 5;

const RULES = [
  'http-request return status 500 content-type text/plain string "spoe error" if { var(txn.rl.err) -m found }',
  'http-request return status 429 content-type text/plain string "Too Many Requests" if { var(sess.rl.ip_score) -m int ge 80 }',
  'http-request return status 200 content-type text/plain string "ok"',
];

/** Leaves a socket file at `path` the way a SIGKILLed agent does: bound, never unlinked (mode 0600). */
async function leaveStaleSocket(path: string): Promise<void> {
  const run = Bun.spawnSync(["python3", "-c", "import os,socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); os.chmod(sys.argv[1], 0o600)", path]);
  if (run.exitCode !== 0) throw new Error(`could not create a stale socket: ${run.stderr.toString()}`);
  if (!lstatSync(path).isSocket()) throw new Error("the stale file is not a socket");
  // Nobody listens on it: this is what blocks a naive bind(2) with EADDRINUSE.
  await openSocket({ path }, 1_000).then(
    (s) => {
      s.destroy();
      throw new Error("the stale socket accepted a connection");
    },
    (error: NodeJS.ErrnoException) => {
      if (error.code !== "ECONNREFUSED") throw error;
    },
  );
}

for (const version of HAPROXY_VERSIONS) for (const runtime of ["bun", "deno", "binary"] as const satisfies readonly AgentRuntime[]) {
  describe(`unix socket end to end under ${runtime} with ${haproxyLabel(version)}`, () => {
    let agent: AgentProcess;
    let haproxy: HaproxyProcess;
    let socketPath = "";
    let frontendPort = 0;

    beforeAll(async () => {
      const files = writeTempFiles({ "spoe.conf": TEST_SPOE_CONFIG });
      socketPath = join(files.dir, "spoa.sock");
      await leaveStaleSocket(socketPath);
      agent = await startAgent({ runtime, args: ["serve", "--listen", `unix:${socketPath}`, "--socket-mode", "0660", ...RATE] });
      frontendPort = await freePort();
      const cfg = writeTempFiles({ "haproxy.cfg": spoeFrontendConfig({ version, frontendPort, server: `unix@${socketPath}`, spoeFile: files["spoe.conf"], rules: RULES }) });
      haproxy = await startHaproxy({ version, configFile: cfg["haproxy.cfg"], waitPort: frontendPort });
    }, 60_000);

    afterAll(async () => {
      await haproxy?.stop();
      await agent?.stop();
    });

    test("a stale socket file is replaced by a listening socket with mode 0660", async () => {
      const stat = lstatSync(socketPath);
      expect(stat.isSocket()).toBe(true);
      expect(stat.mode & 0o777).toBe(0o660);
      (await openSocket({ path: socketPath })).destroy();
      expect(agent.logs().find((l) => l.msg === "listening")?.spop).toContain(socketPath);
    });

    test(`a request through HAProxy gets its decision: ${BURST} pass, the next ones get 429`, async () => {
      const statuses: number[] = [];
      for (let i = 0; i < BURST + 3; i++) statuses.push((await httpRequest({ port: frontendPort, localAddress: "127.0.0.3" })).status);
      expect(statuses).toEqual([...Array<number>(BURST).fill(200), 429, 429, 429]);
      // Another client is not affected.
      expect((await httpRequest({ port: frontendPort, localAddress: "127.0.0.4" })).status).toBe(200);
    }, 30_000);

    test("option spop-check over the socket sees the agent UP (L7OK)", async () => {
      const stat = await waitForAgentUp(haproxy, "be_spoa", "spoa1");
      expect([stat.status, stat.checkStatus]).toEqual(["UP", "L7OK"]);
    }, 30_000);

    test("an SPOP client on the socket path is answered directly too", async () => {
      const c = await connectSpop({ path: socketPath });
      try {
        c.notify(clientIp(7));
        await c.waitForAcks(1, 5_000);
        expect(c.denied).toBe(0);
      } finally {
        c.destroy();
      }
    });
  });
}

describe("a unix listen path holding a regular file", () => {
  test("is refused at start and the file is left untouched", async () => {
    const files = writeTempFiles({ "data.txt": "not a socket\n" });
    const agent = await startAgent({ runtime: "bun", args: ["serve", "--listen", `unix:${files["data.txt"]}`], waitFor: null });
    try {
      const code = await withDeadline(agent.exited, 15_000, "the agent to give up");
      expect(code).not.toBe(0);
      expect(agent.output()).toContain("not a socket");
      expect(readFileSync(files["data.txt"], "utf8")).toBe("not a socket\n");
    } finally {
      await agent.stop();
    }
  });
});
