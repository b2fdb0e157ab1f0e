// Which requests HAProxy sends no response message for (`event on-http-response`), on 2.6 and
// 3.4 with the shipped spoe-ratelimit.conf: a request that took a lease either gets its
// response message (the slot is free right after it ends) or it does not (the slot stays held
// until leaseTtl). One client address per case, a concurrency limit of 1, leases of 4 s; the
// slot is probed within 1 s of the case ending, well inside the lease.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect } from "node:net";
import { resolve } from "node:path";
import { type AgentProcess, startAgent } from "../helpers/agent-process.ts";
import { HAPROXY_VERSIONS, haproxyAtLeast, haproxyLabel, type HaproxyProcess, type HaproxyVersion, httpFrontendSections, spopBackendMode, startHaproxy, waitForAgentUp, writeTempFiles } from "../helpers/haproxy.ts";
import { httpRequest } from "../helpers/http-client.ts";
import { freePort } from "../helpers/ports.ts";
import { type ResponseBackend, startResponseBackend } from "../helpers/response-backend.ts";

const ROOT = resolve(import.meta.dir, "../..");
const POLICY = resolve(import.meta.dir, "fixtures/response-no-message-policy.yaml");

function haproxyConfig(o: { port: number; agentPort: number; backendPort: number; closedPort: number; version: HaproxyVersion }): string {
  return `${httpFrontendSections({
    frontendPort: o.port,
    spoeFile: resolve(ROOT, "deploy/haproxy/spoe-ratelimit.conf"),
    rules: [
      'http-request return status 429 content-type text/plain string "Too Many Requests" if { var(txn.rl.allowed) -m found } !{ var(txn.rl.allowed) -m bool }',
      "http-request deny deny_status 403 if { path_beg /forbidden }",
      "use_backend be_down if { path_beg /down }",
      "use_backend be_timeout if { path_beg /timeout }",
      "default_backend be_app",
    ],
  })}
backend be_app
    server app 127.0.0.1:${o.backendPort}

backend be_down
    retries 0
    server app 127.0.0.1:${o.closedPort}

backend be_timeout
    timeout server 300ms
    server app 127.0.0.1:${o.backendPort}

backend be_spoa_ratelimit
    mode ${spopBackendMode(o.version)}
    timeout connect 2s
    timeout server 30s
    option spop-check
    server spoa 127.0.0.1:${o.agentPort} check inter 5s
`;
}

/** Sends a request and closes the connection after `afterMs`, before any answer. */
function abandon(port: number, localAddress: string, path: string, afterMs: number): Promise<void> {
  return new Promise((done) => {
    const socket = connect({ host: "127.0.0.1", port, localAddress });
    socket.on("connect", () => socket.write(`GET ${path} HTTP/1.1\r\nHost: t\r\nx-hold-ms: 1500\r\n\r\n`));
    socket.on("error", () => {});
    setTimeout(() => {
      socket.destroy();
      done();
    }, afterMs);
  });
}

for (const version of HAPROXY_VERSIONS) describe(`${haproxyLabel(version)}: when HAProxy sends no response message`, () => {
  let agent: AgentProcess;
  let haproxy: HaproxyProcess;
  let backend: ResponseBackend;
  let port = 0;
  const get = (host: number, path: string, headers: Record<string, string> = {}) =>
    httpRequest({ port, path, localAddress: `127.0.40.${host}`, headers }, 10_000);
  /** True when the client's one slot is free right now (the probe's own lease is returned at once). */
  const slotFree = async (host: number) => (await get(host, "/probe")).status === 200;

  beforeAll(async () => {
    const agentPort = await freePort();
    agent = await startAgent({ runtime: "bun", args: ["serve", "--config", POLICY, "--listen", `127.0.0.1:${agentPort}`] });
    backend = startResponseBackend();
    port = await freePort();
    const files = writeTempFiles({ "haproxy.cfg": haproxyConfig({ port, agentPort, backendPort: backend.port, closedPort: await freePort(), version }) });
    haproxy = await startHaproxy({ version, configFile: files["haproxy.cfg"], waitPort: port });
    await waitForAgentUp(haproxy, "be_spoa_ratelimit", "spoa");
    for (let i = 0; i < 6; i++) await get(250, "/warmup");
  }, 60_000);

  afterAll(async () => {
    await haproxy?.stop();
    await agent?.stop();
    await backend?.stop();
  });

  test("a response from the backend: the message comes, the slot is free at once", async () => {
    expect((await get(1, "/ok")).status).toBe(200);
    expect(await slotFree(1)).toBe(true);
  });

  // Measured: up to 3.2 HAProxy still reads the backend's answer and sends the message; 3.4
  // drops the server side when the client leaves (as with option abortonclose), so no message.
  const aborts = haproxyAtLeast(version, "3.4");
  test(`the client leaves before the backend answers: ${aborts ? "no message (the server side is aborted too)" : "the message still comes"}`, async () => {
    await abandon(port, "127.0.40.2", "/ok", 200);
    await Bun.sleep(1_600);
    expect(await slotFree(2)).toBe(!aborts);
  });

  test("a later http-request rule denies the allowed request (403): no message, the slot waits for leaseTtl", async () => {
    expect((await get(3, "/forbidden")).status).toBe(403);
    expect(await slotFree(3)).toBe(false);
  });

  test("the server is down (HAProxy answers 503): no message", async () => {
    expect((await get(4, "/down")).status).toBe(503);
    expect(await slotFree(4)).toBe(false);
  });

  test("the server times out (HAProxy answers 504): no message", async () => {
    expect((await get(5, "/timeout", { "x-hold-ms": "1000" })).status).toBe(504);
    expect(await slotFree(5)).toBe(false);
  });

  test("a held slot frees at leaseTtl (4 s) all the same", async () => {
    await Bun.sleep(4_100);
    for (const host of [2, 3, 4, 5]) expect(await slotFree(host)).toBe(true);
  }, 10_000);
});
