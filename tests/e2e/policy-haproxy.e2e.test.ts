// Issue 4 end to end, on every HAProxy version: real HAProxy running the SHIPPED deploy/haproxy
// files a user of that version runs (haproxy-2.6.cfg on 2.6/3.0, haproxy-3.1.cfg on 3.2/3.4,
// haproxy.cfg on all; not copies; addresses through their environment variables) in front of the
// agent (bun, one per version) with a policy file of a per-IP limit, a stricter /login limit and
// a shadow limit. Status codes, Retry-After,
// RateLimit and RateLimit-Policy are checked value by value against GCRA; the shadow limit is
// checked through /metrics (the shipped config exposes txn.rl.shadow_denied as no header);
// X-Forwarded-For / Forwarded change the key only from a trusted proxy; option spop-check sees
// the agent UP, and with no agent at the configured address requests pass (fail open).
//
// Predictions (T = emission interval, cap = τ + T; see src/ratelimit/gcra.ts): after k allowed
// requests at ~t0, remaining = burst − k and reset = k·T (rounded up to seconds, exact while the
// test takes less than the smallest T = 10 s); a denied request retries after T and writes nothing.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { resolve } from "node:path";
import { type AgentProcess, startAgent } from "../helpers/agent-process.ts";
import {
  checkHaproxyConfig,
  HAPROXY_VERSIONS,
  haproxyLabel,
  type HaproxyProcess,
  shippedConfigsFor,
  startHaproxy,
  waitForAgentUp,
} from "../helpers/haproxy.ts";
import { denied, freshBurst, LOGIN_POLICY, ok, seen, series } from "../helpers/gcra-expect.ts";
import { httpRequest } from "../helpers/http-client.ts";
import { ackVars, checkRate, openSpop } from "../helpers/policy-load.ts";
import { freePort } from "../helpers/ports.ts";

const ROOT = resolve(import.meta.dir, "../..");
const SHIPPED = resolve(ROOT, "deploy/haproxy");
const POLICY = resolve(import.meta.dir, "fixtures/policy-haproxy.yaml");

/** The environment the shipped configs read (names from their headers). */
function haproxyEnv(frontendPort: number, agentPort: number): Record<string, string> {
  return {
    FRONTEND_ADDR: `127.0.0.1:${frontendPort}`,
    SPOA_ADDR: `127.0.0.1:${agentPort}`,
    SPOE_CONF: resolve(SHIPPED, "spoe-ratelimit.conf"),
    APP_BACKEND: "be_local_ok",
    APP_ADDR: "127.0.0.1:9",
  };
}

/** spoa_decisions_total for one limit and result, read from the agent's /metrics. */
async function decisions(metricsPort: number, limit: string, result: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`, { signal: AbortSignal.timeout(5_000) })).text();
  for (const line of text.split("\n")) {
    if (!line.startsWith("spoa_decisions_total{")) continue;
    if (line.includes(`limit="${limit}"`) && line.includes(`result="${result}"`)) return Number(line.split(" ").at(-1));
  }
  return 0;
}

for (const version of HAPROXY_VERSIONS) describe(haproxyLabel(version), () => {
  let agent: AgentProcess;
  let agentPort = 0;
  let metricsPort = 0;

  beforeAll(async () => {
    agentPort = await freePort();
    metricsPort = await freePort();
    agent = await startAgent({
      runtime: "bun",
      args: [
        "serve", "--config", POLICY, "--listen", `127.0.0.1:${agentPort}`, "--metrics", `127.0.0.1:${metricsPort}`,
        // The default set plus shadow_denied, which the shadow test reads from the ACK itself.
        "--variables", "ip_score,allowed,retry_after,degraded,ratelimit,ratelimit_policy,shadow_denied",
      ],
    });
  }, 30_000);

  afterAll(async () => {
    await agent?.stop();
  });

  describe(`the shipped HAProxy configs pass haproxy -c on ${version} with the environment set`, () => {
    for (const file of shippedConfigsFor(version)) {
      test(`deploy/haproxy/${file}`, async () => {
        const check = checkHaproxyConfig(resolve(SHIPPED, file), haproxyEnv(await freePort(), agentPort), version);
        expect(check.output).not.toContain("[ALERT]");
        expect(check.code).toBe(0);
      });
    }
  });

  // Each shipped file gets its own HAProxy and its own block of client addresses (127.0.<net>.x),
  // so both can share one agent without sharing a key.
  for (const [file, net] of shippedConfigsFor(version).map((f, i) => [f, i + 1] as const)) {
    describe(`${haproxyLabel(version)} with the shipped deploy/haproxy/${file} and a policy file`, () => {
      let haproxy: HaproxyProcess;
      let port = 0;
      const client = (host: number) => `127.0.${net}.${host}`;
      const get = (host: number, path = "/", headers: Record<string, string> = {}) =>
        httpRequest({ port, path, localAddress: client(host), headers }).then(seen);

      beforeAll(async () => {
        port = await freePort();
        haproxy = await startHaproxy({ version, configFile: resolve(SHIPPED, file), waitPort: port, env: haproxyEnv(port, agentPort) });
        // Warm up the SPOE connections (one per HAProxy thread) from an address no test uses, so
        // no measured request pays for connect + HELLO within the shipped 100 ms processing timeout.
        for (let i = 0; i < 6; i++) await get(250);
      }, 30_000);

      afterAll(async () => {
        await haproxy?.stop();
      });

      test("option spop-check sees the agent UP (L7OK)", async () => {
        const stat = await waitForAgentUp(haproxy, "be_spoa_ratelimit", "spoa");
        expect([stat.status, stat.checkStatus]).toEqual(["UP", "L7OK"]);
      }, 30_000);

      test("a fresh client gets exactly its burst of 5, then 429 with Retry-After: 10, every value as GCRA predicts", async () => {
        expect(await series(7, () => get(2))).toEqual(freshBurst(2));
        // A second client is unaffected.
        expect(await get(22)).toEqual(ok('"per-ip";r=4;t=10'));
      }, 30_000);

      test("/login is stricter (2 at once, then Retry-After: 60) and its denial costs the per-IP limit nothing", async () => {
        expect(await series(3, () => get(4, "/login"))).toEqual([
          ok('"login";r=1;t=60', LOGIN_POLICY),
          ok('"login";r=0;t=120', LOGIN_POLICY),
          denied('"login";r=0;t=120', 60, LOGIN_POLICY),
        ]);
        // Two requests counted against per-ip, not three: the denied one wrote nothing.
        expect(await get(4, "/")).toEqual(ok('"per-ip";r=2;t=30'));
      }, 30_000);

      test("the shadow limit never denies: its denials show only in spoa_decisions_total{result=\"shadow_deny\"}", async () => {
        const before = await decisions(metricsPort, "per-ip", "shadow_deny");
        // search-shadow allows 1 per minute; per-ip allows 5. Every /search is answered by per-ip,
        // and the shadow limit (absent from RateLimit-Policy) denies the 2nd … 5th only on paper.
        expect(await series(6, () => get(5, "/search"))).toEqual(freshBurst(1));
        expect(await decisions(metricsPort, "per-ip", "shadow_deny")).toBe(before + 4);

        // The variable behind it, straight from the agent's ACK (the shipped config sets no header
        // from it): absent while the shadow limit allows, the limit's name once it would deny.
        const conn = await openSpop(agentPort);
        try {
          const search = [checkRate({ src: `10.9.${net}.1`, path: "/search" })];
          const first = ackVars(await conn.decide(search));
          const second = ackVars(await conn.decide(search));
          expect([first.get("txn.allowed"), first.get("txn.shadow_denied")]).toEqual([true, undefined]);
          expect([second.get("txn.allowed"), second.get("txn.shadow_denied")]).toEqual([true, "search-shadow"]);
        } finally {
          conn.close();
        }
      }, 30_000);

      test("a spoofed X-Forwarded-For or Forwarded from an untrusted source does not change the key", async () => {
        expect(await series(6, () => get(6))).toEqual(freshBurst(1));
        expect(await get(6, "/", { "X-Forwarded-For": "198.51.100.7" })).toEqual(denied('"per-ip";r=0;t=50', 10));
        expect(await get(6, "/", { Forwarded: "for=198.51.100.7" })).toEqual(denied('"per-ip";r=0;t=50', 10));
        expect(await get(6, "/", { "X-Forwarded-For": `198.51.100.7, ${client(3)}` })).toEqual(denied('"per-ip";r=0;t=50', 10));
      }, 30_000);

      test("the same headers from the trusted proxy 127.0.x.3 key the request by the forwarded client", async () => {
        // The forwarded client gets its own fresh burst of exactly 5 …
        expect(await series(6, () => get(3, "/", { "X-Forwarded-For": `198.51.100.${net}7` }))).toEqual(freshBurst(1));
        // … Forwarded (RFC 7239) works the same way …
        expect(await get(3, "/", { Forwarded: `for=198.51.100.${net}8;proto=http` })).toEqual(ok('"per-ip";r=4;t=10'));
        expect(await get(3, "/", { Forwarded: `for="198.51.100.${net}8:4711"` })).toEqual(ok('"per-ip";r=3;t=20'));
        // … a forwarded client already over its limit stays limited through the proxy …
        expect(await get(3, "/", { "X-Forwarded-For": client(6) })).toEqual(denied('"per-ip";r=0;t=50', 10));
        // … and cannot escape by prepending addresses: the rightmost untrusted entry is the client.
        expect(await get(3, "/", { "X-Forwarded-For": `203.0.113.9, ${client(6)}, ${client(3)}` })).toEqual(
          denied('"per-ip";r=0;t=50', 10),
        );
        expect(await get(3, "/", { Forwarded: `for=203.0.113.9, for=${client(6)}` })).toEqual(denied('"per-ip";r=0;t=50', 10));
        // … and the proxy's own key is untouched by all of the above.
        expect(await get(3, "/")).toEqual(ok('"per-ip";r=4;t=10'));
      }, 30_000);
    });
  }

  describe(`${haproxyLabel(version)} with the shipped configs and no agent listening`, () => {
    for (const file of shippedConfigsFor(version)) {
      test(`deploy/haproxy/${file} fails open: 200 without rate-limit headers`, async () => {
        const port = await freePort();
        const haproxy = await startHaproxy({ version, configFile: resolve(SHIPPED, file), waitPort: port, env: haproxyEnv(port, await freePort()) });
        try {
          const response = seen(await httpRequest({ port, localAddress: "127.0.9.1" }));
          expect(response).toEqual({ status: 200 });
        } finally {
          await haproxy.stop();
        }
      }, 30_000);
    }
  });
});
