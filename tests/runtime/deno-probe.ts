// Run under deno by deno-facts.test.ts; prints one JSON object of facts measured on Deno
// (engineering-notes §4) and of the Deno adapter's unix socket and HTTP behaviour.
import { connect } from "node:net";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { denoAdapter } from "../../src/runtime/deno.ts";
import { detectRuntime } from "../../src/runtime/detect.ts";
import type { ConnectionPort } from "../../src/agent/transport.ts";
import { runCases } from "./parse-args-cases.ts";

// deno-lint-ignore no-explicit-any
const Deno = (globalThis as any).Deno;
const facts: Record<string, unknown> = { runtime: detectRuntime(), unstableNet: typeof Deno.listenDatagram === "function" };
const noop: ConnectionPort = { receive() {}, drained() {}, closed() {} };
const message = (error: unknown) => ({ name: (error as Error).name, code: (error as { code?: string }).code, message: String(error) });

if (Deno.args[0] === "reuseport") {
  try {
    const first = await denoAdapter.listenSpop({ kind: "tcp", hostname: "127.0.0.1", port: 0, reusePort: true }, () => noop);
    const second = await denoAdapter.listenSpop({ kind: "tcp", hostname: "127.0.0.1", port: first.port, reusePort: true }, () => noop);
    facts.reusePort = { first: first.port, second: second.port };
    await first.close();
    await second.close();
  } catch (error) {
    facts.reusePortError = message(error);
  }
} else {
  facts.parseArgs = runCases();

  // §4.4: setNoDelay on an accepted conn, and partial writes to a client that does not read.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const client = connect(listener.addr.port, "127.0.0.1");
  client.pause();
  const conn = await listener.accept();
  facts.setNoDelay = (() => {
    try {
      conn.setNoDelay(true);
      return "ok";
    } catch (error) {
      return String(error);
    }
  })();
  const big = new Uint8Array(4 * 1024 * 1024);
  const counts: number[] = [];
  const writing = (async () => {
    for (let offset = 0; offset < big.length;) {
      const n = await conn.write(big.subarray(offset));
      counts.push(n);
      offset += n;
    }
  })();
  await new Promise((resolve) => setTimeout(resolve, 200));
  facts.firstWriteCount = counts[0] ?? null;
  client.resume();
  await writing;
  facts.writeCalls = counts.length;
  conn.close();
  client.destroy();
  listener.close();

  // Unix sockets through the adapter: stale socket replaced, mode applied, regular file refused.
  const dir = mkdtempSync(join(tmpdir(), "spoa-deno-"));
  const path = join(dir, "agent.sock");
  const stale = Deno.listen({ transport: "unix", path });
  stale.close();
  const unix = await denoAdapter.listenSpop({ kind: "unix", path, mode: 0o660 }, () => noop);
  facts.unix = { address: unix.address, port: unix.port, mode: statSync(path).mode & 0o777, isSocket: statSync(path).isSocket() };
  await unix.close();
  const regular = join(dir, "data.txt");
  writeFileSync(regular, "keep me");
  try {
    await denoAdapter.listenSpop({ kind: "unix", path: regular }, () => noop);
    facts.regularFile = "accepted";
  } catch (error) {
    facts.regularFile = { ...message(error), stillThere: statSync(regular).isFile() };
  }
  rmSync(dir, { recursive: true });

  // reusePort without --unstable-net: a clear error instead of Deno exiting the process.
  try {
    await denoAdapter.listenSpop({ kind: "tcp", hostname: "127.0.0.1", port: 0, reusePort: true }, () => noop);
    facts.reusePortWithoutFlag = "listened";
  } catch (error) {
    facts.reusePortWithoutFlag = message(error);
  }

  // serveHttp with Deno.serve.
  const http = await denoAdapter.serveHttp({ kind: "tcp", hostname: "127.0.0.1", port: 0 }, (request) =>
    new Response(`hello ${new URL(request.url).pathname}`, { status: 200, headers: { "x-runtime": "deno" } })
  );
  const response = await fetch(`http://127.0.0.1:${http.port}/healthz`);
  facts.http = { port: http.port, address: http.address, status: response.status, body: await response.text(), runtime: response.headers.get("x-runtime") };
  await http.close();
}
console.log(JSON.stringify(facts));
