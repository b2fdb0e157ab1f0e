// The admin routes in process, over a real MemoryStore and DenyCache and a config loaded from a
// policy file: off → 404, token checks → 401, methods → 405, bad descriptions → 400, and the
// inspect / reset answers.
import { describe, expect, test } from "bun:test";
import { withAdminRoutes, tokenMatches } from "../../src/app/admin-http.ts";
import { loadConfig } from "../../src/config/load.ts";
import type { AgentConfig } from "../../src/config/schema.ts";
import { DenyCache } from "../../src/ratelimit/resilience/deny-cache.ts";
import { MemoryStore } from "../../src/ratelimit/memory/store.ts";
import { compilePolicies } from "../../src/ratelimit/policy/compile.ts";
import type { Message } from "../../src/spop/types.ts";
import { createValkeyStore } from "../../src/ratelimit/valkey/store.ts";

const TOKEN = "test-admin-token-0123456789";
const POLICY = `
limits:
  - name: per-ip
    rate: 100/h
    burst: 100
  - name: login
    rate: 3/m
    burst: 3
    match:
      path: { prefix: /login }
      method: { in: [POST] }
`;

function configWith(env: Record<string, string>): AgentConfig {
  return loadConfig({ args: { flags: { config: "/p.yaml" } }, env, readFile: () => POLICY });
}

function setup(env: Record<string, string> = { SPOA_ADMIN: "1", SPOA_ADMIN_TOKEN: TOKEN }) {
  const config = configWith(env);
  const clock = { nowUs: () => Date.now() * 1000 };
  const store = new MemoryStore({ clock });
  const denials = new DenyCache();
  const handler = withAdminRoutes(() => new Response("Not Found\n", { status: 404 }), {
    config: () => config,
    stores: { kind: "memory", primary: store, denials, clock },
  });
  const policies = compilePolicies(config.limits, { keyPrefix: config.store.keyPrefix });
  const send = (ip: string, path: string, method: string) => {
    const message: Message = { name: "check-rate", args: [{ name: "ip_src", kind: "string", value: ip }, { name: "path", kind: "string", value: path }, { name: "method", kind: "string", value: method }] };
    return store.check(policies.checksFor(message, ip)!.checks);
  };
  const call = (method: string, path: string, token: string | null = TOKEN, scheme = "Bearer") =>
    Promise.resolve(handler(new Request(`http://127.0.0.1:9464${path}`, { method, headers: token === null ? {} : { authorization: `${scheme} ${token}` } })));
  return { config, store, denials, call, send, clock };
}

describe("admin routes", () => {
  test("are off by default: /admin paths fall through to 404, even with the right token", async () => {
    const { call } = setup({ SPOA_ADMIN_TOKEN: TOKEN });
    expect((await call("GET", "/admin/inspect?ip=10.0.0.1")).status).toBe(404);
    expect((await call("POST", "/admin/reset?ip=10.0.0.1")).status).toBe(404);
  });

  test("answer 401 without the right bearer token, and never echo the token", async () => {
    const { call } = setup();
    for (const token of [null, "wrong-token-wrong-token", `${TOKEN}x`, TOKEN.slice(0, -1)]) {
      const response = await call("GET", "/admin/inspect?ip=10.0.0.1", token);
      expect(response.status).toBe(401);
      expect(response.headers.get("www-authenticate")).toContain("Bearer");
      expect(await response.text()).not.toContain(TOKEN);
    }
    expect((await call("GET", "/admin/inspect?ip=10.0.0.1", btoa(`admin:${TOKEN}`), "Basic")).status).toBe(401);
    expect((await call("GET", "/admin/inspect?ip=10.0.0.1", TOKEN, "bearer")).status).toBe(200);
  });

  test("other paths are untouched; a wrong method is 405; an unknown admin path is 404", async () => {
    const { call } = setup();
    expect((await call("GET", "/metrics")).status).toBe(404); // the fallback answered
    expect((await call("GET", "/admin/reset?ip=10.0.0.1")).status).toBe(405);
    expect((await call("POST", "/admin/inspect?ip=10.0.0.1")).status).toBe(405);
    expect((await call("GET", "/admin/nope")).status).toBe(404);
  });

  test("a description that cannot be used is a 400 that says why", async () => {
    const { call } = setup();
    const badLimit = await call("GET", "/admin/inspect?ip=10.0.0.1&limit=nope");
    expect(badLimit.status).toBe(400);
    expect((await badLimit.json()).error).toContain('no limit is called "nope"');
    const badMessage = await call("GET", "/admin/inspect?ip=10.0.0.1&message=other");
    expect((await badMessage.json()).error).toContain('no limit listens to message "other"');
    const foreign = await call("POST", "/admin/reset?key=session:abc");
    expect(foreign.status).toBe(400);
    expect((await foreign.json()).error).toContain("not a rate-limit key");
  });

  test("inspect shows the matching limits, the denied key at remaining 0 with a retry-after, and what did not match", async () => {
    const { call, send } = setup();
    for (let i = 0; i < 3; i++) expect(send("203.0.113.7", "/login", "POST").allowed).toBe(true);
    expect(send("203.0.113.7", "/login", "POST").allowed).toBe(false);

    const report = await (await call("GET", "/admin/inspect?ip=203.0.113.7&path=/login&method=POST")).json();
    expect(report).toMatchObject({ message: "check-rate", identity: "203.0.113.7", store: "memory", allowed: false, notMatched: [] });
    const [perIp, login] = report.limits;
    expect(perIp).toMatchObject({ name: "per-ip", key: expect.stringContaining("{203.0.113.7}:per-ip:"), state: { allowed: true, remaining: 97 } });
    expect(login).toMatchObject({ name: "login", rate: "3/m", cost: 1, state: { allowed: false, remaining: 0, retryAfterSeconds: 20 }, denyCache: { held: false } });
    expect(login.state.retryAfterMs).toBeGreaterThan(19_000);
    expect(login.state.tatUs).toBeGreaterThan(Date.now() * 1000);

    const get = await (await call("GET", "/admin/inspect?ip=203.0.113.7&path=/login&method=GET")).json();
    expect(get.notMatched).toEqual(["login"]);
    expect(get.allowed).toBe(true);
  });

  test("reset deletes the keys of the described request (one limit with limit=) and drops cached denials", async () => {
    const { call, send, denials, clock } = setup();
    for (let i = 0; i < 4; i++) send("203.0.113.8", "/login", "POST");
    const before = await (await call("GET", "/admin/inspect?ip=203.0.113.8&path=/login&method=POST")).json();
    const loginKey: string = before.limits[1].key;
    denials.remember(loginKey, 1, clock.nowUs() + 10_000_000);
    expect((await (await call("GET", "/admin/inspect?ip=203.0.113.8&path=/login&method=POST")).json()).limits[1].denyCache.held).toBe(true);

    const reset = await call("POST", "/admin/reset?ip=203.0.113.8&path=/login&method=POST&limit=login");
    expect(reset.status).toBe(200);
    const body = await reset.json();
    expect(body).toEqual({ store: "memory", keys: [{ key: loginKey, tatUs: before.limits[1].state.tatUs, local: false, denyCache: true }] });

    const after = await (await call("GET", "/admin/inspect?ip=203.0.113.8&path=/login&method=POST")).json();
    expect(after.allowed).toBe(true);
    expect(after.limits[1]).toMatchObject({ state: { tatUs: null, remaining: 3 }, denyCache: { held: false } });
    // per-ip was not named, so it kept its count (the denied 4th request committed nothing).
    expect(after.limits[0].state.remaining).toBe(97);
    expect(send("203.0.113.8", "/login", "POST").allowed).toBe(true);

    const byKey = await (await call("POST", `/admin/reset?key=${encodeURIComponent(loginKey)}`)).json();
    expect(byKey.keys[0]).toMatchObject({ key: loginKey, denyCache: false });
    expect(byKey.keys[0].tatUs).toBeGreaterThan(0);
  });
});

describe("admin routes during a Valkey outage", () => {
  test("inspect and reset fall back to what decides then: the local store and the deny cache", async () => {
    const config = configWith({ SPOA_ADMIN: "1", SPOA_ADMIN_TOKEN: TOKEN });
    const clock = { nowUs: () => Date.now() * 1000 };
    // A real client of a Valkey that is not there: every call fails as in an outage.
    const valkey = await createValkeyStore({ url: "redis://127.0.0.1:1", keyPrefix: "", deadlineMs: 50, connections: 1, batch: false }, { clock, connectWaitMs: 50, resets: { channel: "rl:resets", onKey: () => {} } });
    const local = new MemoryStore({ clock });
    const denials = new DenyCache();
    const handler = withAdminRoutes(() => new Response("", { status: 404 }), {
      config: () => config,
      stores: { kind: "valkey", primary: valkey, fallback: local, denials, clock },
    });
    const call = async (method: string, path: string) =>
      await (await handler(new Request(`http://127.0.0.1${path}`, { method, headers: { authorization: `Bearer ${TOKEN}` } }))).json();
    try {
      // The `local` failure policy decided these.
      const policies = compilePolicies(config.limits, { keyPrefix: config.store.keyPrefix });
      const message: Message = { name: "check-rate", args: [{ name: "ip_src", kind: "string", value: "198.51.100.9" }, { name: "path", kind: "string", value: "/login" }, { name: "method", kind: "string", value: "POST" }] };
      for (let i = 0; i < 4; i++) local.check(policies.checksFor(message, "198.51.100.9")!.checks);

      const report = await call("GET", "/admin/inspect?ip=198.51.100.9&path=/login&method=POST&limit=login");
      expect(report.allowed).toBe(false);
      expect(report.limits[0].state).toBeUndefined();
      expect(report.limits[0].storeError).toMatch(/offline|not ready|ECONNREFUSED/);
      expect(report.limits[0].local).toMatchObject({ remaining: 0, allowed: false });

      const reset = await call("POST", "/admin/reset?ip=198.51.100.9&path=/login&method=POST&limit=login");
      expect(reset.keys[0]).toMatchObject({ tatUs: null, local: true, denyCache: false });
      expect(reset.keys[0].storeError).toBeDefined();
      expect(reset.announced).toBe(false);
      expect((await call("GET", "/admin/inspect?ip=198.51.100.9&path=/login&method=POST&limit=login")).allowed).toBe(true);
    } finally {
      await valkey.close();
    }
  });
});

describe("tokenMatches()", () => {
  test("is true only for the same text", async () => {
    expect(await tokenMatches(TOKEN, TOKEN)).toBe(true);
    expect(await tokenMatches("", TOKEN)).toBe(false);
    expect(await tokenMatches(`${TOKEN} `, TOKEN)).toBe(false);
  });
});


describe("admin routes: a description that names no real client is 400 with the reason", () => {
  const cases: readonly [string, string][] = [
    ["/admin/inspect?ip=999.1.1.1", `ip "999.1.1.1" is not an IPv4 or IPv6 address (for example ip=203.0.113.7 or ip=2001:db8::1)`],
    ["/admin/inspect?ipp=10.0.0.1", `unknown parameter "ipp" (did you mean ip?): use ip, message, limit, key, an argument HAProxy sends (ip_src, ip_fwd, ip_xff, path, method, host, api_key, api_key_count), or arg.NAME for any other`],
    ["/admin/inspect?path=/login", `name the client: ip=ADDRESS (or ip_fwd/ip_xff with a trusted proxy's ip); without it every limit keyed by identity reads the "unknown" client's key`],
    ["/admin/inspect", `name the client: ip=ADDRESS (or ip_fwd/ip_xff with a trusted proxy's ip); without it every limit keyed by identity reads the "unknown" client's key`],
  ];
  for (const [path, error] of cases) {
    test(`GET ${path}`, async () => {
      const response = await setup().call("GET", path);
      expect({ status: response.status, body: await response.json() }).toEqual({ status: 400, body: { error } });
    });
  }

  test("a valid IPv6 address, arg.NAME for any argument and reset by key still work", async () => {
    const { call } = setup();
    expect((await call("GET", "/admin/inspect?ip=2001:db8::1&arg.tenant=a")).status).toBe(200);
    expect((await call("POST", "/admin/reset?key=rl:%7B10.0.0.1%7D:per-ip:00000000")).status).toBe(200);
  });
});
