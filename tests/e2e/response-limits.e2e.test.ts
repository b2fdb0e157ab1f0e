// Limits that see the response, end to end: the SHIPPED deploy/haproxy configs (haproxy-2.6.cfg
// up to 3.0, haproxy-3.1.cfg from 3.1; their response message and 429/503 rules) on HAProxy 2.6
// and 3.4, two HAProxy + agent pairs sharing one real Valkey (8 with 2.6, 9 with 3.4), and a
// backend (tests/helpers/response-backend.ts) that answers x-tokens-used and counts requests
// in flight. Policy: tests/e2e/fixtures/response-policy.yaml.
//
// Predictions (src/ratelimit/response/postpaid.ts, lease.ts): tokens T = 1 s, capacity 60 s;
// a response of a tokens puts the key a − 60 s in debt, and the next request passes when one
// token fits: Retry-After = ceil(a − 59 − elapsed) s. Leases: N at once, freed by the response
// message, or leaseTtl after they were taken when no response message comes.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { resolve } from "node:path";
import { type AgentProcess, startAgent } from "../helpers/agent-process.ts";
import { HAPROXY_VERSIONS, haproxyAtLeast, haproxyLabel, type HaproxyProcess, type HaproxyVersion, startHaproxy, waitForAgentUp } from "../helpers/haproxy.ts";
import { httpRequest, type HttpResponse } from "../helpers/http-client.ts";
import { ackVars, openSpop } from "../helpers/policy-load.ts";
import { freePort, waitFor } from "../helpers/ports.ts";
import { type ResponseBackend, startResponseBackend } from "../helpers/response-backend.ts";
import { startValkey, VALKEY_VERSIONS, type ValkeyProcess, type ValkeyVersion } from "../helpers/valkey.ts";

const ROOT = resolve(import.meta.dir, "../..");
const SHIPPED = resolve(ROOT, "deploy/haproxy");
const POLICY = resolve(import.meta.dir, "fixtures/response-policy.yaml");
const SECRET = "e2e fleet secret shared by both agents";
/** HAProxy 2.6 with Valkey 8, 3.4 with Valkey 9: both generations, both Valkey versions. */
const PAIRS: readonly (readonly [HaproxyVersion, ValkeyVersion])[] = ([["2.6", "8"], ["3.4", "9"]] as const)
  .filter(([h, v]) => HAPROXY_VERSIONS.includes(h) && VALKEY_VERSIONS.includes(v));

interface Pair {
  agent: AgentProcess;
  haproxy: HaproxyProcess;
  readonly agentPort: number;
  readonly metricsPort: number;
  readonly port: number;
}

async function metric(pair: Pair, name: string, label: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${pair.metricsPort}/metrics`, { signal: AbortSignal.timeout(5_000) })).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name}{`) && l.includes(label));
  return line === undefined ? 0 : Number(line.split(" ").at(-1));
}

for (const [version, valkeyVersion] of PAIRS) describe(`${haproxyLabel(version)} + Valkey ${valkeyVersion}: limits that see the response`, () => {
  let valkey: ValkeyProcess;
  let backend: ResponseBackend;
  const pairs: Pair[] = [];
  const config = resolve(SHIPPED, haproxyAtLeast(version, "3.1") ? "haproxy-3.1.cfg" : "haproxy-2.6.cfg");
  const env = (p: { port: number; agentPort: number }) => ({
    FRONTEND_ADDR: `127.0.0.1:${p.port}`,
    SPOA_ADDR: `127.0.0.1:${p.agentPort}`,
    SPOE_CONF: resolve(SHIPPED, "spoe-ratelimit.conf"),
    APP_ADDR: `127.0.0.1:${backend.port}`,
    APP_BACKEND: "be_app",
  });
  const agentOf = (p: { agentPort: number; metricsPort: number }) =>
    startAgent({
      runtime: "bun",
      args: ["serve", "--config", POLICY, "--listen", `127.0.0.1:${p.agentPort}`, "--metrics", `127.0.0.1:${p.metricsPort}`],
      env: { VALKEY_URL: valkey.url, SPOA_TICKET_SECRET: SECRET },
    });
  const haproxyOf = (p: { port: number; agentPort: number }) => startHaproxy({ version, configFile: config, waitPort: p.port, env: env(p) });
  const get = (pair: Pair, path: string, o: { host?: number; key?: string; tokens?: string; holdMs?: number } = {}): Promise<HttpResponse> =>
    httpRequest({
      port: pair.port,
      path,
      // One client address for both pairs: a key is the same key whichever HAProxy it comes through.
      localAddress: `127.0.10.${o.host ?? 1}`,
      headers: {
        ...(o.key === undefined ? {} : { "x-api-key": o.key }),
        ...(o.tokens === undefined ? {} : { "x-tokens": o.tokens }),
        ...(o.holdMs === undefined ? {} : { "x-hold-ms": String(o.holdMs) }),
      },
    }, 20_000);

  beforeAll(async () => {
    valkey = await startValkey({ version: valkeyVersion });
    backend = startResponseBackend();
    for (let i = 0; i < 2; i++) {
      const ports = { agentPort: await freePort(), metricsPort: await freePort(), port: await freePort() };
      const agent = await agentOf(ports);
      const haproxy = await haproxyOf(ports);
      pairs.push({ ...ports, agent, haproxy });
    }
    for (const pair of pairs) {
      await waitForAgentUp(pair.haproxy, "be_spoa_ratelimit", "spoa");
      // One SPOE connection per HAProxy thread, opened before any measured request.
      for (let i = 0; i < 6; i++) await get(pair, "/warmup", { host: 250 });
    }
  }, 60_000);

  afterAll(async () => {
    for (const pair of pairs) {
      await pair.haproxy?.stop();
      await pair.agent?.stop();
    }
    await backend?.stop();
    await valkey?.stop();
    if (valkey) rmSync(valkey.dir, { recursive: true, force: true });
  });

  test("tokens: a response's x-tokens-used puts the key in debt; denied with the exact Retry-After, by both agents, and admitted once it is paid", async () => {
    const [a, b] = pairs;
    const key = `tokens-${version}`;
    // A fresh key is admitted (not in debt); its response reports 61 tokens: 1 s of debt.
    const first = await get(a, "/v1/chat", { key, tokens: "61" });
    expect(first.status).toBe(200);
    const charged = Date.now();
    // Next request: one token fits at charge + 61 − 60 + 1 s → Retry-After ceil(2 s − elapsed) = 2.
    const denied = await get(a, "/v1/chat", { key, tokens: "1" });
    expect([denied.status, denied.headers.get("retry-after")]).toEqual([429, "2"]);
    expect(denied.headers.get("ratelimit")).toBe('"tokens";r=0;t=61');
    // The other agent (other HAProxy) reads the same debt from Valkey.
    const other = await get(b, "/v1/chat", { key, tokens: "1" });
    expect(other.status).toBe(429);
    expect(["1", "2"]).toContain(other.headers.get("retry-after") ?? "");
    // Paid off after 2 s from the charge (the server's clock; the margin covers the request's own time).
    await Bun.sleep(Math.max(0, charged + 2_100 - Date.now()));
    expect((await get(b, "/v1/chat", { key, tokens: "0" })).status).toBe(200);
  }, 30_000);

  test("concurrency: 20 parallel clients on one key with N = 5 — the backend never holds more than 5, 15 get 503, and the slots free on response", async () => {
    const [a] = pairs;
    backend.reset();
    const answers = await Promise.all(Array.from({ length: 20 }, () => get(a, "/slow", { host: 20, holdMs: 1_000 })));
    const statuses = answers.map((r) => r.status);
    expect(statuses.filter((s) => s === 200).length).toBe(5);
    expect(statuses.filter((s) => s === 503).length).toBe(15);
    expect(answers.find((r) => r.status === 503)?.headers.get("retry-after")).toBe("1");
    expect(backend.maxInFlight()).toBe(5);
    // Every response came back: all five slots are free again at once.
    const again = await Promise.all(Array.from({ length: 5 }, () => get(a, "/slow", { host: 20, holdMs: 200 })));
    expect(again.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
  }, 30_000);

  test("concurrency across two HAProxy + agent pairs on one Valkey: 10 clients through each, still at most 5 in flight and 15 denied", async () => {
    const [a, b] = pairs;
    backend.reset();
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => get(i % 2 === 0 ? a : b, "/slow", { host: 21, holdMs: 1_000 })));
    expect(answers.filter((r) => r.status === 200).length).toBe(5);
    expect(answers.filter((r) => r.status === 503).length).toBe(15);
    expect(backend.maxInFlight()).toBe(5);
  }, 30_000);

  test("leaks: HAProxy killed with a request in flight — its slot frees leaseTtl (3 s) after it was taken, not before", async () => {
    const [a] = pairs;
    const sent = Date.now();
    const base = backend.inFlight();
    const lost = get(a, "/leak", { host: 30, holdMs: 10_000 }).catch(() => undefined);
    await waitFor("the request to reach the backend", () => backend.inFlight() > base, 5_000);
    const acquiredBy = Date.now();
    process.kill(a.haproxy.pid, "SIGKILL");
    await lost;
    a.haproxy = await haproxyOf(a);
    await waitForAgentUp(a.haproxy, "be_spoa_ratelimit", "spoa");
    for (let i = 0; i < 6; i++) await get(a, "/warmup", { host: 250 });
    // Still held (the lease was taken after `sent`, so it lives at least until sent + 3 s).
    if (Date.now() < sent + 2_800) expect((await get(a, "/leak", { host: 30 })).status).toBe(429);
    // Free no later than 3 s after it was taken (by `acquiredBy`).
    await Bun.sleep(Math.max(0, acquiredBy + 3_100 - Date.now()));
    expect((await get(a, "/leak", { host: 30 })).status).toBe(200);
  }, 40_000);

  test("leaks: the agent restarted mid-request — the new agent (same fleet secret) settles the response: the slot frees at once, the tokens count once", async () => {
    const [a] = pairs;
    const key = `restart-${version}`;
    const base = backend.inFlight();
    const held = get(a, "/leak", { host: 31, key, tokens: "61", holdMs: 3_000 });
    await waitFor("the request to reach the backend", () => backend.inFlight() > base, 5_000);
    await a.agent.stop();
    a.agent = await agentOf(a);
    const answered = await held;
    expect(answered.status).toBe(200);
    // The response message reached the new agent: the one slot of /leak is free right away
    // (long before its 3 s lease would end) …
    await waitFor("the slot to be released", async () => (await get(a, "/leak", { host: 31 })).status === 200, 2_000);
    // … and the 61 tokens were charged exactly once: 1 s in debt, not 62 s.
    const next = await get(a, "/v1/chat", { key, tokens: "0" });
    expect(next.status).toBe(429);
    expect(Number(next.headers.get("retry-after"))).toBeLessThanOrEqual(2);
  }, 40_000);

  test("bad response costs (missing, negative, non-numeric, huge): a throttled log line and a metric each, the key's tokens unchanged", async () => {
    const [a] = pairs;
    const key = `bad-${version}`;
    const reasons = ["cost-missing", "cost-negative", "cost-not-a-number", "cost-too-large"];
    const before = await Promise.all(reasons.map((r) => metric(a, "spoa_response_refused_total", `reason="${r}"`)));
    for (const tokens of ["none", "-5", "many", "99999999999999999999"]) {
      expect((await get(a, "/v1/chat", { key, tokens })).status).toBe(200);
    }
    await waitFor("every refusal counted", async () => {
      const after = await Promise.all(reasons.map((r) => metric(a, "spoa_response_refused_total", `reason="${r}"`)));
      return after.every((n, i) => n === before[i] + 1);
    }, 5_000);
    expect(a.agent.logs().some((l) => l.msg === "response message refused: no key's state changed" && l.reason === "cost-negative")).toBe(true);
    // Nothing was charged: the key still has its whole minute.
    expect((await get(a, "/v1/chat", { key, tokens: "0" })).headers.get("ratelimit")).toBe('"tokens";r=60;t=0');
  }, 30_000);

  test("an unknown or forged ticket sent straight to the agent: counted and logged, no key's state changes", async () => {
    const [a] = pairs;
    const conn = await openSpop(a.agentPort);
    try {
      const before = await metric(a, "spoa_response_refused_total", 'reason="forged"');
      const malformed = await metric(a, "spoa_response_refused_total", 'reason="malformed"');
      const forged = "WzEsIngiLFtdXQ.AAAAAAAAAAAAAAAAAAAAAA";
      for (const ticket of [forged, "unknown-opaque-value"]) {
        const actions = await conn.decide([{ name: "check-response", args: [{ name: "ticket", kind: "string", value: ticket }, { name: "tokens", kind: "string", value: "5" }] }]);
        expect([...ackVars(actions).keys()]).toEqual([]);
      }
      expect(await metric(a, "spoa_response_refused_total", 'reason="forged"')).toBe(before + 1);
      expect(await metric(a, "spoa_response_refused_total", 'reason="malformed"')).toBe(malformed + 1);
    } finally {
      conn.close();
    }
  }, 30_000);
});
