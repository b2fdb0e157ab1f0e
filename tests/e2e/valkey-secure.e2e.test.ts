// Issue 3 end to end: the agent authenticates as an ACL user whose password comes from
// VALKEY_PASSWORD_FILE, and talks TLS (rediss:// + --valkey-ca-file). Decisions come from
// Valkey, and the password never shows in the agent's output, its --help or check-config.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type AgentProcess, agentCommand, startAgent } from "../helpers/agent-process.ts";
import { freePort, waitFor } from "../helpers/ports.ts";
import { clientIp, connectSpop, type SpopConnection } from "../helpers/spop-socket.ts";
import { makeTlsFiles, startValkey, tempDir, type TlsFiles, VALKEY_VERSIONS, valkeyLabel, type ValkeyProcess } from "../helpers/valkey.ts";

const USER = "spoa-agent";
const PASSWORD = "s3cret-acl-pw-7f1d2c";
const DEFAULT_PASSWORD = "default-user-pw-9a8b";
const RATE_ENV = { SPOA_RATE_INTERVAL: "1000000", SPOA_RATE_BURST: "2000000" };

const dir = tempDir("spoa-secure-");
let tls: TlsFiles;
let aclServer: ValkeyProcess;
let tlsServer: ValkeyProcess;
const agents: AgentProcess[] = [];
const sockets: SpopConnection[] = [];

async function agentWith(runtime: "binary" | "deno", args: readonly string[], env: Readonly<Record<string, string>>) {
  const port = await freePort();
  const agent = await startAgent({ runtime, args: ["serve", "--listen", `127.0.0.1:${port}`, "--valkey-deadline", "2000", ...args], env: { ...RATE_ENV, ...env } });
  agents.push(agent);
  const socket = await connectSpop(port, { timeoutMs: 2_000 });
  sockets.push(socket);
  return { agent, socket };
}

for (const valkeyVersion of VALKEY_VERSIONS) describe(valkeyLabel(valkeyVersion), () => {
  beforeAll(async () => {
    mkdirSync(dir, { recursive: true }); // the previous version's afterAll removed it
    tls = makeTlsFiles(dir);
    [aclServer, tlsServer] = await Promise.all([
      // The default user has another password, so only the ACL user's credentials can work.
      startValkey({ version: valkeyVersion, password: DEFAULT_PASSWORD, aclUser: { name: USER, password: PASSWORD } }),
      startValkey({ version: valkeyVersion, tls }),
    ]);
  }, 30_000);

  afterAll(async () => {
    for (const s of sockets) s.close();
    await Promise.all(agents.map((a) => a.stop()));
    await Promise.all([aclServer?.stop(), tlsServer?.stop()]);
    for (const server of [aclServer, tlsServer]) if (server) rmSync(server.dir, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  });

  describe("the agent with Valkey credentials and TLS", () => {
    test("an ACL user with VALKEY_USERNAME + VALKEY_PASSWORD_FILE decides through Valkey, and the password is never printed", async () => {
      const passwordFile = join(dir, "valkey-password");
      writeFileSync(passwordFile, `${PASSWORD}\n`);
      const { agent, socket } = await agentWith("binary", ["--log-level", "debug"], { VALKEY_URL: aclServer.url, VALKEY_USERNAME: USER, VALKEY_PASSWORD_FILE: passwordFile });
      await waitFor("a decision made by Valkey", async () => !(await socket.check(clientIp(1))).degraded, 10_000);
      const v = await socket.check(clientIp(2));
      expect([v.allowed, v.degraded]).toEqual([true, false]);
      expect(await aclServer.cli("CLIENT", "LIST")).toContain(`user=${USER}`);
      expect(await aclServer.cli("KEYS", "rl:{10.0.0.2}:default:*")).not.toBe("");
      expect(agent.output()).not.toContain(PASSWORD);
    }, 20_000);

    test("the password in VALKEY_PASSWORD or in the URL is absent from --help, check-config and the logs", async () => {
      const env = { PATH: process.env.PATH ?? "", HOME: "/tmp", VALKEY_URL: aclServer.url, VALKEY_USERNAME: USER, VALKEY_PASSWORD: PASSWORD };
      for (const args of [["--help"], ["check-config"], ["serve", "--validate"]]) {
        const run = Bun.spawnSync(agentCommand("binary", args), { env, stdout: "pipe", stderr: "pipe" });
        const text = run.stdout.toString() + run.stderr.toString();
        expect(text.length).toBeGreaterThan(0);
        expect(text).not.toContain(PASSWORD);
      }
      const inUrl = `redis://${USER}:${PASSWORD}@127.0.0.1:${aclServer.port}`;
      const { agent, socket } = await agentWith("binary", ["--log-level", "debug"], { VALKEY_URL: inUrl });
      await waitFor("a decision made by Valkey", async () => !(await socket.check(clientIp(3))).degraded, 10_000);
      expect(agent.output()).not.toContain(PASSWORD);
    }, 20_000);

    test("rediss:// with --valkey-ca-file decides through Valkey over TLS (under deno)", async () => {
      const url = `rediss://127.0.0.1:${tlsServer.tlsPort}`;
      const { socket } = await agentWith("deno", ["--valkey-url", url, "--valkey-ca-file", tls.caFile], {});
      await waitFor("a decision made by Valkey", async () => !(await socket.check(clientIp(4))).degraded, 15_000);
      const v = await socket.check(clientIp(5));
      expect([v.allowed, v.degraded]).toEqual([true, false]);
      expect(await tlsServer.cli("KEYS", "rl:{10.0.0.5}:default:*")).not.toBe("");
    }, 30_000);

    test("without the CA the server certificate is refused: the failure policy decides", async () => {
      const url = `rediss://127.0.0.1:${tlsServer.tlsPort}`;
      const { socket } = await agentWith("binary", ["--valkey-url", url], {});
      const verdicts = [];
      for (let i = 0; i < 5; i++) verdicts.push(await socket.check(clientIp(6)));
      expect(verdicts.every((v) => v.degraded)).toBe(true);
      expect(await tlsServer.cli("KEYS", "rl:{10.0.0.6}:default:*")).toBe("");
    }, 20_000);
  });
});
