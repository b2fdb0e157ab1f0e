// Run under Node by node.test.ts (bundled first): prints one JSON object of the Node adapter's
// unix socket, HTTP and reusePort behaviour.
import { connect, createServer } from "node:net";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { versions } from "node:process";
import type { ConnectionPort } from "../../src/agent/transport.ts";
import { detectRuntime, loadAdapter } from "../../src/runtime/detect.ts";
import { nodeAdapter } from "../../src/runtime/node.ts";

const facts: Record<string, unknown> = { runtime: detectRuntime(), loaded: (await loadAdapter()).name, node: versions.node };
const noop: ConnectionPort = { receive() {}, drained() {}, closed() {} };
const message = (error: unknown) => ({ name: (error as Error).name, code: (error as { code?: string }).code, message: String(error) });

// Unix sockets: a stale socket is replaced, the mode applied, a regular file refused.
const dir = mkdtempSync(join(tmpdir(), "spoa-node-"));
// Node removes a unix socket file when its server closes, so only a crash leaves one behind:
// leave an unref'd server bound instead; the file at the path is what the adapter sees.
const stalePath = join(dir, "stale.sock");
await new Promise<void>((resolve) => createServer().listen(stalePath, resolve).unref());
let unixPeer = "";
const unix = await nodeAdapter.listenSpop({ kind: "unix", path: stalePath, mode: 0o660 }, (transport) => {
  unixPeer = transport.remoteAddress;
  return { receive: (chunk) => transport.write(chunk), drained() {}, closed() {} };
});
// One echo over the unix socket: TCP-only socket options must not break a unix connection.
const echoed = await new Promise<string>((resolve, reject) => {
  const client = connect(stalePath, () => client.write("ping"));
  client.on("data", (chunk) => (resolve(chunk.toString()), client.destroy()));
  client.on("error", reject);
});
facts.unix = { address: unix.address, port: unix.port, mode: statSync(stalePath).mode & 0o777, isSocket: statSync(stalePath).isSocket(), echoed, unixPeer };
await unix.close();
const regular = join(dir, "data.txt");
writeFileSync(regular, "keep me");
try {
  await nodeAdapter.listenSpop({ kind: "unix", path: regular }, () => noop);
  facts.regularFile = "accepted";
} catch (error) {
  facts.regularFile = { ...message(error), stillThere: statSync(regular).isFile() };
}
rmSync(dir, { recursive: true, force: true });

// A taken port is a listen-failed error naming the address.
const taken = await nodeAdapter.listenSpop({ kind: "tcp", hostname: "127.0.0.1", port: 0 }, () => noop);
try {
  await nodeAdapter.listenSpop({ kind: "tcp", hostname: "127.0.0.1", port: taken.port }, () => noop);
  facts.portTaken = "accepted";
} catch (error) {
  facts.portTaken = message(error);
}
await taken.close();

// reusePort: two listeners on one port, or a clear error on a Node that lacks it.
try {
  const first = await nodeAdapter.listenSpop({ kind: "tcp", hostname: "127.0.0.1", port: 0, reusePort: true }, () => noop);
  const second = await nodeAdapter.listenSpop({ kind: "tcp", hostname: "127.0.0.1", port: first.port, reusePort: true }, () => noop);
  facts.reusePort = { first: first.port, second: second.port };
  await first.close();
  await second.close();
} catch (error) {
  facts.reusePortError = message(error);
}

// HTTP: the fetch-style handler sees method, path, headers and body; its answer comes back whole.
const http = await nodeAdapter.serveHttp({ kind: "tcp", hostname: "127.0.0.1", port: 0 }, async (request) => {
  const url = new URL(request.url);
  if (url.pathname === "/boom") throw new Error("boom");
  const body = await request.text();
  return new Response(`${request.method} ${url.pathname}${url.search} ${request.headers.get("x-probe")} ${body}`, {
    status: 201,
    headers: { "x-answer": "yes" },
  });
});
const posted = await fetch(`http://127.0.0.1:${http.port}/metrics?a=1`, { method: "POST", headers: { "x-probe": "p" }, body: "payload" });
facts.http = { address: http.address, status: posted.status, header: posted.headers.get("x-answer"), body: await posted.text() };
facts.httpThrow = (await fetch(`http://127.0.0.1:${http.port}/boom`)).status;
await http.close();

console.log(JSON.stringify(facts));
