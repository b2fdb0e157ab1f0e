// The fault proxy against a plain echo server: bytes arrive whole and in order whatever the
// latency and jitter, a blackhole holds them until healed, a stall holds then releases, and a
// reset reaches both peers as ECONNRESET.
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { createServer, connect, type Server, type Socket } from "node:net";
import { type FaultProxy, startFaultProxy } from "./fault-proxy.ts";
import { FaultProxyProcess } from "./fault-proxy-process.ts";
import { freePort, waitFor } from "./ports.ts";

let echo: Server;
let echoPort = 0;
const serverErrors: string[] = [];
let proxy: FaultProxy | undefined;

beforeAll(async () => {
  echoPort = await freePort();
  echo = createServer((socket) => {
    socket.on("data", (data) => socket.write(data));
    socket.on("error", (error: NodeJS.ErrnoException) => void serverErrors.push(error.code ?? error.message));
  });
  await new Promise<void>((resolve) => echo.listen(echoPort, "127.0.0.1", resolve));
});

afterAll(() => new Promise<void>((resolve) => echo.close(() => resolve())));

afterEach(async () => {
  await proxy?.close();
  proxy = undefined;
});

/** A client through the proxy that collects everything echoed back. */
async function client(port: number): Promise<{ socket: Socket; received: () => Buffer; ended: Promise<string> }> {
  const chunks: Buffer[] = [];
  const socket = connect({ host: "127.0.0.1", port, noDelay: true });
  const ended = new Promise<string>((resolve) => {
    let code = "";
    socket.on("error", (error: NodeJS.ErrnoException) => void (code = error.code ?? error.message));
    socket.on("close", () => resolve(code || "closed"));
  });
  socket.on("data", (data: Buffer) => chunks.push(data));
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  return { socket, received: () => Buffer.concat(chunks), ended };
}

/** Writes `count` numbered lines, one write each, a few at a time so they travel as separate chunks. */
async function sendLines(socket: Socket, count: number): Promise<string> {
  let all = "";
  for (let i = 0; i < count; i++) {
    const line = `line ${i}\n`;
    all += line;
    socket.write(line);
    if (i % 10 === 9) await Bun.sleep(1);
  }
  return all;
}

describe("FaultProxy", () => {
  test("forwards bytes unchanged both ways with no fault set", async () => {
    proxy = await startFaultProxy(echoPort);
    const c = await client(proxy.port);
    const sent = await sendLines(c.socket, 50);
    await waitFor("the echo", () => c.received().length === sent.length, 5_000);
    expect(c.received().toString()).toBe(sent);
    expect(proxy.stats()).toMatchObject({ accepted: 1, open: 1, bytes: { upstream: sent.length, downstream: sent.length } });
    c.socket.destroy();
  });

  test("latency with jitter delays every chunk yet keeps the byte order", async () => {
    proxy = await startFaultProxy(echoPort, { seed: 7 });
    proxy.latency({ ms: 15, jitterMs: 10 });
    const c = await client(proxy.port);
    const start = performance.now();
    const sent = await sendLines(c.socket, 300);
    await waitFor("the echo", () => c.received().length === sent.length, 10_000);
    // Two legs of at least 5 ms each: a reply faster than 10 ms would mean no delay was added.
    expect(performance.now() - start).toBeGreaterThanOrEqual(10);
    expect(c.received().toString()).toBe(sent);
    c.socket.destroy();
  });

  test("a blackhole accepts and holds bytes without answering; switching it off delivers them in order", async () => {
    proxy = await startFaultProxy(echoPort);
    proxy.blackhole(true);
    const c = await client(proxy.port);
    const sent = await sendLines(c.socket, 40);
    await Bun.sleep(200);
    expect(c.received().length).toBe(0);
    expect(proxy.stats().held).toBe(sent.length);
    expect(proxy.stats().open).toBe(1);
    proxy.blackhole(false);
    await waitFor("the held bytes", () => c.received().length === sent.length, 5_000);
    expect(c.received().toString()).toBe(sent);
    expect(proxy.stats().held).toBe(0);
    c.socket.destroy();
  });

  test("heal() removes the blackhole and the latency", async () => {
    proxy = await startFaultProxy(echoPort);
    proxy.latency({ ms: 60_000 }).blackhole(true);
    const c = await client(proxy.port);
    c.socket.write("held");
    await waitFor("bytes held", () => proxy?.stats().held === 4, 2_000);
    proxy.heal();
    c.socket.write(" then free");
    // The first chunk still waits out its own minute; new chunks cannot overtake it.
    await Bun.sleep(100);
    expect(c.received().length).toBe(0);
    c.socket.destroy();
    const d = await client(proxy.port);
    d.socket.write("fresh");
    await waitFor("the echo on a new connection", () => d.received().toString() === "fresh", 5_000);
    d.socket.destroy();
  });

  test("stall() holds all traffic for a while, then releases it in order", async () => {
    proxy = await startFaultProxy(echoPort);
    const c = await client(proxy.port);
    proxy.stall(300);
    const sent = await sendLines(c.socket, 20);
    await Bun.sleep(100);
    expect(c.received().length).toBe(0);
    await waitFor("the stalled bytes", () => c.received().length === sent.length, 5_000);
    expect(c.received().toString()).toBe(sent);
    expect(proxy.stats().stalls).toBe(1);
    c.socket.destroy();
  });

  test("random stalls are counted and lose nothing", async () => {
    proxy = await startFaultProxy(echoPort, { seed: 3 });
    proxy.randomStalls({ probability: 0.05, ms: 20 });
    const c = await client(proxy.port);
    const sent = await sendLines(c.socket, 400);
    await waitFor("the echo", () => c.received().length === sent.length, 10_000);
    expect(c.received().toString()).toBe(sent);
    expect(proxy.stats().stalls).toBeGreaterThan(0);
    c.socket.destroy();
  });

  test("resetAll() sends RST to both peers", async () => {
    proxy = await startFaultProxy(echoPort);
    const c = await client(proxy.port);
    c.socket.write("x");
    await waitFor("the echo", () => c.received().length === 1, 5_000);
    const errorsBefore = serverErrors.length;
    expect(proxy.resetAll()).toBe(1);
    expect(await c.ended).toBe("ECONNRESET");
    await waitFor("the server to see the reset", () => serverErrors.length > errorsBefore, 5_000);
    expect(serverErrors.at(-1)).toBe("ECONNRESET");
    expect(proxy.stats()).toMatchObject({ open: 0, resets: 1 });
  });

  test("randomResets(1) resets a connection on its first chunk", async () => {
    proxy = await startFaultProxy(echoPort);
    proxy.randomResets(1);
    const c = await client(proxy.port);
    c.socket.write("boom");
    expect(await c.ended).toBe("ECONNRESET");
    expect(c.received().length).toBe(0);
    proxy.randomResets(0);
    const d = await client(proxy.port);
    d.socket.write("ok");
    await waitFor("the echo", () => d.received().toString() === "ok", 5_000);
    d.socket.destroy();
  });

  test("close() ends every proxied connection", async () => {
    proxy = await startFaultProxy(echoPort);
    const c = await client(proxy.port);
    await proxy.close();
    proxy = undefined;
    expect(await c.ended).toBeOneOf(["closed", "ECONNRESET"]);
  });

  test("FaultProxyProcess applies the same faults from its own process over IPC", async () => {
    const child = await FaultProxyProcess.start(echoPort, { seed: 9 });
    try {
      await child.blackhole(true);
      const c = await client(child.port);
      c.socket.write("partitioned");
      await waitFor("bytes held in the child", async () => (await child.stats()).held === 11, 5_000);
      expect(c.received().length).toBe(0);
      await child.heal();
      await waitFor("the held bytes", () => c.received().toString() === "partitioned", 5_000);
      expect(await child.resetAll()).toBe(1);
      expect(await c.ended).toBe("ECONNRESET");
    } finally {
      await child.close();
    }
  });
});
