// The deploy/haproxy files, used exactly as shipped (nothing copied or rewritten), on every
// HAProxy version with the files a user of that version runs: they pass `haproxy -c` with only
// environment variables set, and a real HAProxy running them sends the documented message and
// turns the agent's variables into 429 + Retry-After + RateLimit headers, failing open when the
// agent does not answer.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { Action, Message } from "../../src/spop/types.ts";
import {
  checkHaproxyConfig,
  HAPROXY_VERSIONS,
  haproxyAtLeast,
  haproxyLabel,
  type HaproxyProcess,
  shippedConfigsFor,
  startHaproxy,
} from "../helpers/haproxy.ts";
import { httpRequest } from "../helpers/http-client.ts";
import { freePort } from "../helpers/ports.ts";
import { startStubSpoa, type StubSpoa } from "./stub-spoa.ts";

const DIR = resolve(import.meta.dir, "../../deploy/haproxy");
const SPOE_CONF = resolve(DIR, "spoe-ratelimit.conf");

function env(frontendPort: number, spoaPort: number): Record<string, string> {
  return {
    FRONTEND_ADDR: `127.0.0.1:${frontendPort}`,
    SPOA_ADDR: `127.0.0.1:${spoaPort}`,
    SPOE_CONF,
    APP_BACKEND: "be_local_ok",
  };
}

for (const version of HAPROXY_VERSIONS) {
  describe(`deploy/haproxy configs pass haproxy -c (${haproxyLabel(version)})`, () => {
    for (const file of shippedConfigsFor(version)) {
      test(`${file} is valid with only environment variables set`, () => {
        const result = checkHaproxyConfig(resolve(DIR, file), env(18080, 12345), version);
        expect(result.output).not.toContain("[ALERT]");
        expect(result.output).not.toContain("[WARNING]");
        expect(result.code).toBe(0);
      });
    }

    test("haproxy.cfg defaults every variable except the SPOE path (a fixed file location)", () => {
      const result = checkHaproxyConfig(resolve(DIR, "haproxy.cfg"), { SPOE_CONF }, version);
      expect(result.code).toBe(0);
    });

    if (!haproxyAtLeast(version, "3.1")) {
      test("haproxy-3.1.cfg is refused: mode spop is new in 3.1", () => {
        const result = checkHaproxyConfig(resolve(DIR, "haproxy-3.1.cfg"), env(18080, 12345), version);
        expect(result.output).toContain("unknown proxy mode 'spop'");
        expect(result.code).not.toBe(0);
      });
    }
  });
}

describe("deploy/haproxy/spoe-ratelimit.conf", () => {

  test("spoe-ratelimit.conf sends the arguments the agent's policies use, prefixed rl, with set-on-error", () => {
    const text = readFileSync(SPOE_CONF, "utf8");
    expect(text).toContain("option var-prefix rl");
    expect(text).toContain("option set-on-error err");
    expect(text).toMatch(/timeout processing \d+ms/);
    expect(text).toContain(
      "args ip_fwd=req.fhdr(forwarded) ip_xff=req.fhdr(x-forwarded-for) ip_src=src path=path method=method host=req.hdr(host) api_key=req.hdr(x-api-key),sha2(256),hex",
    );
    expect(text).toContain("event on-frontend-http-request");
  });
});

const str = (name: string, value: string): Action => ({ type: "set-var", scope: "txn", name, value: { kind: "string", value } });
const allowed = (value: boolean): Action => ({ type: "set-var", scope: "txn", name: "allowed", value: { kind: "bool", value } });

// Denies /deny, allows everything else, like the agent's actions (variables.ts) would.
function decide(messages: readonly Message[]): Action[] {
  const path = messages[0]?.args.find((a) => a.name === "path");
  const deny = path?.kind === "string" && path.value === "/deny";
  return [
    { type: "set-var", scope: "sess", name: "ip_score", value: { kind: "int32", value: deny ? 100 : 0 } },
    allowed(!deny),
    ...(deny ? [{ type: "set-var", scope: "txn", name: "retry_after", value: { kind: "int32", value: 7 } } as const] : []),
    str("ratelimit", deny ? '"per-ip";r=0;t=7' : '"per-ip";r=9;t=1'),
    str("ratelimit_policy", '"per-ip";q=10;w=1'),
  ];
}

for (const version of HAPROXY_VERSIONS) for (const file of shippedConfigsFor(version)) {
  describe(`deploy/haproxy/${file} behind a real ${haproxyLabel(version)}`, () => {
    let stub: StubSpoa;
    let haproxy: HaproxyProcess;
    let port = 0;

    beforeAll(async () => {
      stub = await startStubSpoa(decide);
      port = await freePort();
      haproxy = await startHaproxy({ version, configFile: resolve(DIR, file), waitPort: port, env: env(port, stub.port) });
    }, 30_000);

    afterAll(async () => {
      await haproxy?.stop();
      await stub?.close();
    });

    test("an allowed request reaches the app and carries RateLimit headers", async () => {
      const headers = { Forwarded: "for=192.0.2.1", "X-Forwarded-For": "192.0.2.9", "X-Api-Key": "k" };
      const response = await httpRequest({ port, path: "/ok", headers });
      expect(response.status).toBe(200);
      expect(response.body).toBe("ok");
      expect(response.headers.get("ratelimit")).toBe('"per-ip";r=9;t=1');
      expect(response.headers.get("ratelimit-policy")).toBe('"per-ip";q=10;w=1');
      const message = stub.messages.at(-1);
      expect(message?.name).toBe("check-rate");
      expect(message?.args.map((a) => a.name)).toEqual(["ip_fwd", "ip_xff", "ip_src", "path", "method", "host", "api_key", "api_key_count"]);
      expect(message?.args.map((a) => ("value" in a ? String(a.value) : a.kind))).toEqual([
        "for=192.0.2.1", "192.0.2.9", String(0x7f000001), "/ok", "GET", "test.local",
        new Bun.CryptoHasher("sha256").update("k").digest("hex").toUpperCase(),
        "1", // api_key_count: one X-Api-Key header
      ]);
    });

    test("a denied request gets 429 with Retry-After, RateLimit and RateLimit-Policy", async () => {
      const response = await httpRequest({ port, path: "/deny" });
      expect(response.status).toBe(429);
      expect(response.body).toBe("Too Many Requests");
      expect(response.headers.get("retry-after")).toBe("7");
      expect(response.headers.get("ratelimit")).toBe('"per-ip";r=0;t=7');
      expect(response.headers.get("ratelimit-policy")).toBe('"per-ip";q=10;w=1');
    });

    test("when the agent does not answer, the request passes (fail open) without rate-limit headers", async () => {
      stub.mute(true);
      try {
        const response = await httpRequest({ port, path: "/deny" });
        expect(response.status).toBe(200);
        expect(response.headers.has("ratelimit")).toBe(false);
      } finally {
        stub.mute(false);
      }
    });
  });
}
