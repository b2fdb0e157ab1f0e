// The Valkey password rotated without a restart, under 500 NOTIFY/s. The agent
// reads it from a file (a mounted Secret) and watches that file: the ACL user first accepts the
// old and the new password, the file is replaced, the agent connects with the new one and
// switches; then the old password is removed and every connection is killed — they come back,
// so they authenticate with the new one. A wrong new password is reported, and the running
// connections keep deciding. Then the same for the TLS client certificate: the server trusts the
// old and the new client CA, the certificate and key files are replaced, the old CA is dropped
// and the connections killed; a certificate from a CA the server does not trust is reported.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { delta, faultMetrics, startLoad } from "../helpers/fault-scenario.ts";
import { waitFor } from "../helpers/ports.ts";
import { clientIp } from "../helpers/spop-socket.ts";
import { type AgentOnValkey, startAgentOnValkey } from "../helpers/valkey-change.ts";
import { type ClientCa, makeClientCa } from "../helpers/valkey-client-ca.ts";
import { makeTlsFiles, startValkey, tempDir, VALKEY_VERSIONS, valkeyLabel, type ValkeyProcess } from "../helpers/valkey.ts";

const RATE = 500;
const USER = "spoa";
const SWITCHED = "valkey switched";
const REFUSED = "new Valkey settings do not answer PING; the running connections keep serving";
const loadKey = (i: number) => clientIp(1 + (i % 2_000));

let valkey: ValkeyProcess;
let stack: AgentOnValkey;
let passwordFile = "";

/** Replaces the secret file the way a Secret volume does: a new file renamed over the old. */
function writeSecret(secret: string): void {
  writeFileSync(`${passwordFile}.new`, `${secret}\n`);
  renameSync(`${passwordFile}.new`, passwordFile);
}

const linesAfter = (from: number, msg: string) => stack.agent.logs().slice(from).filter((l) => l.msg === msg);

for (const valkeyVersion of VALKEY_VERSIONS) describe(valkeyLabel(valkeyVersion), () => {
  beforeAll(async () => {
    valkey = await startValkey({ version: valkeyVersion, aclUser: { name: USER, password: "old-secret" } });
    passwordFile = join(valkey.dir, "valkey-password");
    writeSecret("old-secret");
    const config = join(valkey.dir, "spoa.yaml");
    writeFileSync(config, `store:\n  valkey:\n    url: ${valkey.url}\n    username: ${USER}\n    passwordFile: ${passwordFile}\n`);
    stack = await startAgentOnValkey({ env: {}, args: ["--config", config] });
  }, 30_000);

  afterAll(async () => {
    await stack?.stop();
    await valkey?.stop();
    if (valkey) rmSync(valkey.dir, { recursive: true, force: true });
  });

  describe("the agent while its Valkey password rotates", () => {
    test(`old and new password overlapping, then the old removed, under ${RATE} NOTIFY/s: no decision lost, connections re-authenticate`, async () => {
      const logsBefore = stack.agent.logs().length;
      const before = await faultMetrics(stack.metrics);
      const load = startLoad(stack.sockets, { concurrency: 4, ratePerSecond: RATE, key: loadKey });
      await Bun.sleep(500);
      expect(await valkey.cli("ACL", "SETUSER", USER, ">new-secret")).toBe("OK");
      const rotatedAt = performance.now();
      writeSecret("new-secret");
      await waitFor("the agent to switch", () => linesAfter(logsBefore, SWITCHED).length > 0, 10_000);
      const switchedMs = performance.now() - rotatedAt;
      // The replaced connections close after their grace period (2 × deadline + 1 s); then the old password goes.
      await Bun.sleep(1_500);
      expect(await valkey.cli("ACL", "SETUSER", USER, "<old-secret")).toBe("OK");
      const rotation = await load.stop();
      const d = delta(before, await faultMetrics(stack.metrics));

      // Every connection dropped: they can only come back with the new password.
      const killed = Number(await valkey.cli("CLIENT", "KILL", "USER", USER));
      await waitFor("decisions from Valkey after the reconnect", async () => !(await stack.sockets[0].check(clientIp(60_000))).degraded, 10_000);
      const users = (await valkey.cli("CLIENT", "LIST")).split("\n").filter((l) => l.includes(` user=${USER} `)).length;
      console.log(
        `password rotation at ${RATE}/s (${valkeyLabel(valkeyVersion)}): switched ${switchedMs.toFixed(0)} ms after the file changed; ` +
          `${rotation.outcomes.length} decisions, ${rotation.outcomes.filter((o) => o.degraded).length} degraded; then ${killed} connections killed, ${users} back as ${USER}`,
      );

      expect(rotation.errors).toEqual([]);
      expect(d.acks).toBe(d.notifies);
      // The switch itself costs no decision (a starved CPU may still cost one a deadline).
      expect(rotation.outcomes.filter((o) => o.degraded).length).toBeLessThanOrEqual(rotation.outcomes.length / 100);
      expect(killed).toBeGreaterThan(0);
      expect(users).toBeGreaterThan(0);
    }, 30_000);

    test("a wrong new password is reported clearly, and the running connections keep deciding", async () => {
      const logsBefore = stack.agent.logs().length;
      const load = startLoad(stack.sockets, { concurrency: 4, ratePerSecond: RATE, key: loadKey });
      writeSecret("not-the-password");
      await waitFor("the refusal in the log", () => linesAfter(logsBefore, REFUSED).length > 0, 10_000);
      await Bun.sleep(500);
      const result = await load.stop();
      const lines = stack.agent.logs().slice(logsBefore);
      const why = lines.filter((l) => /WRONGPASS/.test(JSON.stringify(l)));
      console.log(`wrong password (${valkeyLabel(valkeyVersion)}): ${JSON.stringify(linesAfter(logsBefore, REFUSED)[0])}; ${why.length} lines name WRONGPASS, e.g. ${JSON.stringify(why[0])}`);

      expect(why.length).toBeGreaterThan(0);
      expect(linesAfter(logsBefore, SWITCHED)).toEqual([]);
      expect(result.errors).toEqual([]);
      expect(result.outcomes.filter((o) => o.degraded).length).toBeLessThanOrEqual(result.outcomes.length / 100);
      writeSecret("new-secret");
    }, 20_000);
  });
});

/** Replaces `target` with `source` by rename, as a Secret volume does. */
function replaceFile(source: string, target: string): void {
  copyFileSync(source, `${target}.new`);
  renameSync(`${target}.new`, target);
}

for (const valkeyVersion of VALKEY_VERSIONS) describe(valkeyLabel(valkeyVersion), () => {
  let dir = "";
  let server: ValkeyProcess;
  let agent: AgentOnValkey;
  let agentCert = "";
  let agentKey = "";
  let serverTls: ReturnType<typeof makeTlsFiles>;
  /** Client certificates from three CAs: the server trusts the first, then the first two, then the second. */
  const sets: ClientCa[] = [];

  beforeAll(async () => {
    dir = tempDir("spoa-tls-rotation-");
    serverTls = makeTlsFiles(dir);
    for (const name of ["first", "second", "rogue"]) sets.push(makeClientCa(dir, name));
    server = await startValkey({ version: valkeyVersion, tls: serverTls, config: ["tls-auth-clients yes", `tls-ca-cert-file ${sets[0].caFile}`] });
    agentCert = join(dir, "agent-client.crt");
    agentKey = join(dir, "agent-client.key");
    replaceFile(sets[0].certFile, agentCert);
    replaceFile(sets[0].keyFile, agentKey);
    const config = join(dir, "spoa.yaml");
    writeFileSync(config, `store:\n  valkey:\n    url: rediss://127.0.0.1:${server.tlsPort}\n    tls:\n      caFile: ${serverTls.caFile}\n      certFile: ${agentCert}\n      keyFile: ${agentKey}\n`);
    agent = await startAgentOnValkey({ env: {}, args: ["--config", config] });
  }, 30_000);

  afterAll(async () => {
    await agent?.stop();
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  describe("the agent while its TLS client certificate rotates", () => {
    test(`the new client certificate under ${RATE} NOTIFY/s: no decision lost, connections re-handshake; an untrusted one is reported`, async () => {
      const lines = (from: number, msg: string) => agent.agent.logs().slice(from).filter((l) => l.msg === msg);
      const bundle = join(dir, "clients-ca.crt");
      writeFileSync(bundle, readFileSync(sets[0].caFile, "utf8") + readFileSync(sets[1].caFile, "utf8"));
      expect(await server.cli("CONFIG", "SET", "tls-ca-cert-file", bundle)).toBe("OK");
      const logsBefore = agent.agent.logs().length;
      const before = await faultMetrics(agent.metrics);
      const load = startLoad(agent.sockets, { concurrency: 4, ratePerSecond: RATE, key: loadKey });
      await Bun.sleep(500);
      const rotatedAt = performance.now();
      replaceFile(sets[1].certFile, agentCert);
      replaceFile(sets[1].keyFile, agentKey);
      await waitFor("the agent to switch", () => lines(logsBefore, SWITCHED).length > 0, 10_000).catch((e) => {
        throw new Error(`${e.message}: ${agent.agent.logs().slice(logsBefore).map((l) => JSON.stringify(l)).join("\n").slice(0, 3000)}`);
      });
      const switchedMs = performance.now() - rotatedAt;
      await Bun.sleep(1_500);
      // The old client CA is no longer trusted; killed connections must come back with the new certificate.
      expect(await server.cli("CONFIG", "SET", "tls-ca-cert-file", sets[1].caFile)).toBe("OK");
      const rotation = await load.stop();
      const d = delta(before, await faultMetrics(agent.metrics));
      const killed = Number(await server.cli("CLIENT", "KILL", "TYPE", "normal"));
      await waitFor("decisions from Valkey after the reconnect", async () => !(await agent.sockets[0].check(clientIp(61_000))).degraded, 10_000);

      const refusedBefore = agent.agent.logs().length;
      replaceFile(sets[2].certFile, agentCert);
      replaceFile(sets[2].keyFile, agentKey);
      await waitFor("the refusal in the log", () => lines(refusedBefore, REFUSED).length > 0, 15_000);
      const stillValkey = await agent.sockets[0].check(clientIp(62_000));
      const why = agent.agent.logs().slice(refusedBefore).filter((l) => l.level === "warn" && l.msg === "Valkey connection error");
      console.log(
        `TLS client certificate rotation at ${RATE}/s (${valkeyLabel(valkeyVersion)}): switched ${switchedMs.toFixed(0)} ms after the files changed; ` +
          `${rotation.outcomes.length} decisions, ${rotation.outcomes.filter((o) => o.degraded).length} degraded; ${killed} connections killed and back; ` +
          `untrusted certificate: ${JSON.stringify(why[0]?.error)}, then the refusal; decisions still by Valkey: ${!stillValkey.degraded}`,
      );

      expect(rotation.errors).toEqual([]);
      expect(d.acks).toBe(d.notifies);
      expect(rotation.outcomes.filter((o) => o.degraded).length).toBeLessThanOrEqual(rotation.outcomes.length / 100);
      expect(killed).toBeGreaterThan(0);
      expect(stillValkey.degraded).toBe(false);
      expect(why.length).toBeGreaterThan(0);
    }, 40_000);
  });
});
