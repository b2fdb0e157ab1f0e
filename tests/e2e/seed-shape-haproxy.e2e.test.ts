// The seed deployment's HAProxy shape on HAProxy 3.0, 3.2 and 3.4 (2.6 lacks the rfc7239_*
// converters): HAProxy itself extracts the client addresses and sends them as typed IP
// arguments — `ip_fwd=req.hdr(Forwarded),rfc7239_field(for),rfc7239_n2nn
// ip_xff=req.hdr_ip(X-Forwarded-For,1) ip_src=src` — and denies with the seed's rule
// `http-request deny deny_status 429 if { var(sess.rl.ip_score) -m int ge 80 }`. Headers come
// from `http-after-response`, which also runs on the deny. Under bun, deno and the binary, each
// with the policy of tests/e2e/fixtures/policy-haproxy.yaml (trusted proxy 127.0.1.3).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { resolve } from "node:path";
import { type AgentProcess, type AgentRuntime, startAgent } from "../helpers/agent-process.ts";
import { denied, freshBurst, ok, seen, series } from "../helpers/gcra-expect.ts";
import {
  HAPROXY_VERSIONS,
  haproxyAtLeast,
  haproxyLabel,
  type HaproxyProcess,
  spoeFrontendConfig,
  startHaproxy,
  waitForAgentUp,
  writeTempFiles,
} from "../helpers/haproxy.ts";
import { SEED_RULES, SEED_SPOE } from "../fixtures/seed-haproxy.ts";
import { httpRequest } from "../helpers/http-client.ts";
import { freePort } from "../helpers/ports.ts";

const POLICY = resolve(import.meta.dir, "fixtures/policy-haproxy.yaml");
const TRUSTED_PROXY = "127.0.1.3";

for (const version of HAPROXY_VERSIONS.filter((v) => haproxyAtLeast(v, "3.0"))) {
  for (const runtime of ["bun", "deno", "binary"] as const satisfies readonly AgentRuntime[]) {
    describe(`seed deployment shape (typed IP args, sess.rl.ip_score ge 80) under ${runtime} behind ${haproxyLabel(version)}`, () => {
      let agent: AgentProcess;
      let haproxy: HaproxyProcess;
      let port = 0;
      const get = (from: string, headers: Record<string, string> = {}) => httpRequest({ port, localAddress: from, headers }).then(seen);
      const viaProxy = (headers: Record<string, string>) => get(TRUSTED_PROXY, headers);

      beforeAll(async () => {
        const agentPort = await freePort();
        port = await freePort();
        agent = await startAgent({ runtime, args: ["serve", "--config", POLICY, "--listen", `127.0.0.1:${agentPort}`] });
        const files = writeTempFiles({ "spoe.conf": SEED_SPOE });
        const cfg = writeTempFiles({ "haproxy.cfg": spoeFrontendConfig({ version, frontendPort: port, server: `127.0.0.1:${agentPort}`, spoeFile: files["spoe.conf"], rules: SEED_RULES }) });
        haproxy = await startHaproxy({ version, configFile: cfg["haproxy.cfg"], waitPort: port });
        await waitForAgentUp(haproxy, "be_spoa", "spoa1");
      }, 60_000);

      afterAll(async () => {
        await haproxy?.stop();
        await agent?.stop();
      });

      test("option spop-check sees the agent UP (L7OK)", async () => {
        const stat = await haproxy.server("be_spoa", "spoa1");
        expect([stat.status, stat.checkStatus]).toEqual(["UP", "L7OK"]);
      });

      test("a fresh client gets exactly its burst of 5, then the seed's 429 with Retry-After and RateLimit headers", async () => {
        expect(await series(7, () => get("127.0.1.20"))).toEqual(freshBurst(2));
        expect(await get("127.0.1.21")).toEqual(ok('"per-ip";r=4;t=10'));
      }, 30_000);

      test("from the trusted proxy, a typed IPv4 from Forwarded (with a port) and from X-Forwarded-For is the key", async () => {
        expect(await series(6, () => viaProxy({ Forwarded: 'for="198.51.100.18:4711";proto=http' }))).toEqual(freshBurst(1));
        expect(await viaProxy({ Forwarded: "for=198.51.100.18" })).toEqual(denied('"per-ip";r=0;t=50', 10));
        expect(await viaProxy({ "X-Forwarded-For": "198.51.100.18" })).toEqual(denied('"per-ip";r=0;t=50', 10));
        expect(await viaProxy({ "X-Forwarded-For": "198.51.100.19" })).toEqual(ok('"per-ip";r=4;t=10'));
        // The proxy's own key is untouched.
        expect(await viaProxy({})).toEqual(ok('"per-ip";r=4;t=10'));
      }, 30_000);

      test("a typed IPv6 from Forwarded is keyed by its /64", async () => {
        expect(await viaProxy({ Forwarded: 'for="[2001:db8:1:2::1]:80"' })).toEqual(ok('"per-ip";r=4;t=10'));
        expect(await viaProxy({ Forwarded: 'for="[2001:db8:1:2::99]"' })).toEqual(ok('"per-ip";r=3;t=20'));
        expect(await viaProxy({ Forwarded: 'for="[2001:db8:1:3::1]"' })).toEqual(ok('"per-ip";r=4;t=10'));
      }, 30_000);

      test("req.hdr_ip(X-Forwarded-For,1) hands the agent the leftmost address: that is the key the seed's shape gives", async () => {
        expect(await series(6, () => get("127.0.1.6"))).toEqual(freshBurst(1));
        // Through the proxy, a chain ending in the limited client is keyed by its first entry.
        expect(await viaProxy({ "X-Forwarded-For": "203.0.113.9, 127.0.1.6" })).toEqual(ok('"per-ip";r=4;t=10'));
        expect(await viaProxy({ "X-Forwarded-For": "127.0.1.6, 203.0.113.9" })).toEqual(denied('"per-ip";r=0;t=50', 10));
      }, 30_000);

      test("Forwarded and X-Forwarded-For from an untrusted source do not change the key", async () => {
        expect(await series(6, () => get("127.0.1.7"))).toEqual(freshBurst(1));
        expect(await get("127.0.1.7", { "X-Forwarded-For": "198.51.100.70" })).toEqual(denied('"per-ip";r=0;t=50', 10));
        expect(await get("127.0.1.7", { Forwarded: "for=198.51.100.71" })).toEqual(denied('"per-ip";r=0;t=50', 10));
      }, 30_000);

      test("with the agent stopped, requests pass without rate-limit headers (fail open)", async () => {
        await agent.stop();
        expect(await get("127.0.1.8")).toEqual({ status: 200 });
      }, 30_000);
    });
  }
}
