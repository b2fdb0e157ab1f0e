// "Why is this client limited, and can I let them through now?" end to end: the agent as a
// subprocess, driven into a denial over real SPOP; its admin endpoint (memory and Valkey
// stores) and the `inspect` / `reset` commands against a real Valkey show the key at
// remaining 0 with a retry-after, reset it, and the next request passes.
import { beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { adminRequest, type HttpAgent, runCli, startHttpAgent, trackE2eProcesses } from "../helpers/admin-agent.ts";
import type { AgentRuntime } from "../helpers/agent-process.ts";
import { waitFor } from "../helpers/ports.ts";
import { clientIp, type SpopConnection } from "../helpers/spop-socket.ts";
import { startValkey, VALKEY_VERSIONS, type ValkeyProcess } from "../helpers/valkey.ts";

const TOKEN = "e2e-admin-token-4f1c9a7d2b";
/** The default limit at 1 per minute, burst 3: a client is denied for 60 s after 3 requests. */
const LIMIT_ENV = { SPOA_RATE_INTERVAL: "60000000", SPOA_RATE_BURST: "120000000" };
const ADMIN_ENV = { SPOA_ADMIN: "1", SPOA_ADMIN_TOKEN: TOKEN };

const processes = trackE2eProcesses();
const { valkeys } = processes;

function agentWith(env: Record<string, string>, extraArgs: string[] = [], runtime: AgentRuntime = "bun"): Promise<HttpAgent> {
  return startHttpAgent(processes, { env: { ...LIMIT_ENV, ...env }, args: extraArgs, runtime });
}

function admin(http: string, method: "GET" | "POST", path: string, token: string | null = TOKEN): Promise<Response> {
  return adminRequest(http, method, path, token);
}

/** Three allowed requests, then a denial with a retry-after of 60 s (one per minute once the burst of 3 is spent). */
async function driveIntoDenial(spop: SpopConnection, ip: number): Promise<void> {
  for (let i = 0; i < 3; i++) expect((await spop.check(ip)).allowed).toBe(true);
  const denied = await spop.check(ip);
  expect([denied.allowed, denied.degraded]).toEqual([false, false]);
  expect(denied.retryAfter).toBe(60);
}

describe("admin endpoint, in-memory store", () => {
  test("is off by default: /admin answers 404 even with a token in the environment", async () => {
    const { http } = await agentWith({ SPOA_ADMIN_TOKEN: TOKEN });
    expect((await admin(http, "GET", "/admin/inspect?ip=10.0.0.1")).status).toBe(404);
    expect((await admin(http, "POST", "/admin/reset?ip=10.0.0.1")).status).toBe(404);
    expect((await fetch(`${http}/healthz`)).status).toBe(200);
  }, 30_000);

  // Deno too: the endpoint leans on web APIs (Request, URL, crypto.subtle) each runtime provides.
  for (const runtime of ["bun", "deno"] as const) test(`${runtime}: inspect shows the denied client at remaining 0 with a retry-after; reset lets the next request through`, async () => {
    const { agent, spop, http } = await agentWith({ ...ADMIN_ENV, LOG_LEVEL: "debug" }, [], runtime);
    const ip = clientIp(7);
    await driveIntoDenial(spop, ip);

    expect((await admin(http, "GET", "/admin/inspect?ip=10.0.0.7", null)).status).toBe(401);
    expect((await admin(http, "GET", "/admin/inspect?ip=10.0.0.7", "not-the-token-at-all")).status).toBe(401);

    const inspect = await admin(http, "GET", "/admin/inspect?ip=10.0.0.7");
    expect(inspect.status).toBe(200);
    const report = await inspect.json();
    expect(report).toMatchObject({ identity: "10.0.0.7", store: "memory", allowed: false });
    expect(report.limits).toHaveLength(1);
    expect(report.limits[0]).toMatchObject({ name: "default", key: "rl:{10.0.0.7}:default:" + report.limits[0].key.split(":").pop(), state: { remaining: 0, allowed: false } });
    expect(report.limits[0].state.retryAfterSeconds).toBeGreaterThan(0);
    expect(report.limits[0].state.retryAfterSeconds).toBeLessThanOrEqual(60);

    const reset = await (await admin(http, "POST", "/admin/reset?ip=10.0.0.7")).json();
    expect(reset.keys).toHaveLength(1);
    expect(reset.keys[0].tatUs).toBeGreaterThan(0);
    const next = await spop.check(ip);
    expect(next.allowed).toBe(true);
    // Another client was never touched.
    expect((await spop.check(clientIp(8))).allowed).toBe(true);

    // The token never reaches the log, not even the debug dump of the config.
    expect(agent.logs().some((l) => l.msg === "listening" && l.admin === "on")).toBe(true);
    // The reset is in the audit log with its key.
    expect(agent.logs().find((l) => l.msg === "admin reset")?.keys).toEqual([reset.keys[0].key]);
    expect(agent.output()).not.toContain(TOKEN);
  }, 30_000);

  test("the inspect command with the in-memory store points at the admin endpoint", async () => {
    const result = await runCli(["inspect", "--metrics", "127.0.0.1:9464", "ip=10.0.0.7", "path=/login"], LIMIT_ENV);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("only its admin endpoint can read it");
    expect(result.stdout.trim()).toBe(`curl -sS -H "Authorization: Bearer $SPOA_ADMIN_TOKEN" 'http://127.0.0.1:9464/admin/inspect?ip=10.0.0.7&path=%2Flogin'`);
  }, 30_000);
});

for (const version of VALKEY_VERSIONS) describe(`Valkey ${version}: the agent's admin endpoint and the CLI`, () => {
  let valkey: ValkeyProcess | undefined;
  beforeAll(async () => {
    valkey = await startValkey({ version });
    valkeys.push(valkey);
  });

  test("inspect and reset over the agent and straight against Valkey agree; a reset anywhere clears the agent's deny cache", async () => {
    const valkeyEnv = { VALKEY_URL: valkey!.url };
    const { spop, http } = await agentWith({ ...ADMIN_ENV, ...valkeyEnv }, ["--valkey-deadline", "1000"]);
    const ip = clientIp(9);
    await driveIntoDenial(spop, ip);
    // Denied again: now answered from the agent's deny cache.
    expect((await spop.check(ip)).allowed).toBe(false);

    const fromAgent = await (await admin(http, "GET", "/admin/inspect?ip=10.0.0.9")).json();
    expect(fromAgent).toMatchObject({ store: "valkey", allowed: false });
    expect(fromAgent.limits[0]).toMatchObject({ state: { remaining: 0, allowed: false }, denyCache: { held: true } });
    expect(fromAgent.limits[0].state.ttlMs).toBeGreaterThan(0);

    const inspected = await runCli(["inspect", "ip=10.0.0.9"], { ...LIMIT_ENV, ...valkeyEnv });
    expect(inspected.code).toBe(0);
    const fromCli = JSON.parse(inspected.stdout);
    expect(fromCli).toMatchObject({ identity: "10.0.0.9", store: "valkey", allowed: false });
    expect(fromCli.limits[0]).toMatchObject({ key: fromAgent.limits[0].key, state: { remaining: 0, allowed: false, tatUs: fromAgent.limits[0].state.tatUs } });
    expect(fromCli.limits[0].state.retryAfterSeconds).toBeGreaterThan(0);
    expect(fromCli.limits[0].denyCache).toBeUndefined();
    // Inspecting consumed nothing: the stored TAT is what the agent saw.
    expect(await valkey!.cli("GET", fromAgent.limits[0].key)).toBe(String(fromAgent.limits[0].state.tatUs));

    const reset = await runCli(["reset", "ip=10.0.0.9"], { ...LIMIT_ENV, ...valkeyEnv });
    expect(reset.code).toBe(0);
    expect(JSON.parse(reset.stdout)).toEqual({
      store: "valkey",
      keys: [{ key: fromAgent.limits[0].key, tatUs: fromAgent.limits[0].state.tatUs, local: false }],
      announced: true,
    });
    expect(await valkey!.cli("EXISTS", fromAgent.limits[0].key)).toBe("0");

    // The reset was announced on the reset channel: this agent dropped its cached denial too,
    // without being asked, and the next request passes.
    await waitFor("the agent to drop its cached denial", async () => {
      const now = await (await admin(http, "GET", "/admin/inspect?ip=10.0.0.9")).json();
      return now.limits[0].denyCache.held === false;
    }, 5_000);
    const held = await (await admin(http, "GET", "/admin/inspect?ip=10.0.0.9")).json();
    expect(held).toMatchObject({ allowed: true, limits: [{ state: { tatUs: null, remaining: 3 }, denyCache: { held: false } }] });
    const next = await spop.check(ip);
    expect([next.allowed, next.degraded]).toEqual([true, false]);

    // The agent's own reset: deny cache and Valkey at once.
    expect((await spop.check(ip)).allowed).toBe(true);
    expect((await spop.check(ip)).allowed).toBe(true);
    expect((await spop.check(ip)).allowed).toBe(false);
    expect((await spop.check(ip)).allowed).toBe(false);
    const agentReset = await (await admin(http, "POST", "/admin/reset?ip=10.0.0.9")).json();
    expect(agentReset).toMatchObject({ announced: true, keys: [{ local: false, denyCache: true }] });
    expect(agentReset.keys[0].tatUs).toBeGreaterThan(0);
    expect((await spop.check(ip)).allowed).toBe(true);
  }, 60_000);

  test("the CLI alone: denial → inspect shows remaining 0 and a retry-after → reset → the next request passes", async () => {
    const valkeyEnv = { VALKEY_URL: valkey!.url };
    // The deny cache off (store.denyCacheMaxKeys 0): every decision asks Valkey, so Valkey's
    // state is the whole story and the CLI's reset is enough.
    const dir = mkdtempSync(join(tmpdir(), "spoa-admin-"));
    const config = join(dir, "agent.yaml");
    writeFileSync(config, "store:\n  denyCacheMaxKeys: 0\n");
    try {
      const { spop } = await agentWith(valkeyEnv, ["--config", config, "--valkey-deadline", "1000"]);
      const ip = clientIp(10);
      await driveIntoDenial(spop, ip);

      const env = { ...LIMIT_ENV, ...valkeyEnv };
      const inspected = await runCli(["inspect", "--config", config, "ip=10.0.0.10"], env);
      expect(inspected.code).toBe(0);
      const state = JSON.parse(inspected.stdout).limits[0].state;
      expect(state).toMatchObject({ remaining: 0, allowed: false });
      expect(state.retryAfterMs).toBeGreaterThan(0);

      const reset = await runCli(["reset", "--config", config, "ip=10.0.0.10"], env);
      expect(reset.code).toBe(0);
      expect(JSON.parse(reset.stdout).keys[0].tatUs).toBe(state.tatUs);
      const next = await spop.check(ip);
      expect([next.allowed, next.degraded]).toEqual([true, false]);
      expect(JSON.parse((await runCli(["inspect", "--config", config, "ip=10.0.0.10"], env)).stdout).limits[0].state.remaining).toBe(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

});

describe("the CLI without Valkey", () => {
  test("the CLI reports an unreachable Valkey with exit 1 and the reason", async () => {
    const result = await runCli(["reset", "ip=10.0.0.11"], { ...LIMIT_ENV, VALKEY_URL: "redis://127.0.0.1:1" });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("ECONNREFUSED");
  }, 30_000);
});
