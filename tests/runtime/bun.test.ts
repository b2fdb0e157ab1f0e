// bunAdapter specifics beyond the transport contract: unix sockets, reusePort, listen errors
// and serveHttp.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { ConnectionPort, Transport } from "../../src/agent/transport.ts";
import { bunAdapter } from "../../src/runtime/bun.ts";
import { RuntimeAdapterError } from "../../src/runtime/errors.ts";

const BUN = resolve(import.meta.dir, "../../node_modules/.bin/bun");
const dir = mkdtempSync(join(tmpdir(), "spoa-bun-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const noop: ConnectionPort = { receive() {}, drained() {}, closed() {} };

/** An echo port that remembers each transport's remoteAddress. */
function echo(remotes: string[]) {
  return (transport: Transport): ConnectionPort => {
    remotes.push(transport.remoteAddress);
    return { receive: (chunk) => void transport.write(chunk), drained() {}, closed() {} };
  };
}

/** Leaves a stale socket file behind, as a crashed agent would: bind in a child, then SIGKILL it. */
async function staleSocket(path: string): Promise<void> {
  const child = Bun.spawn([BUN, "-e", `Bun.listen({ unix: ${JSON.stringify(path)}, socket: { data() {} } }); console.log("up")`], {
    stdout: "pipe",
  });
  try {
    const reader = child.stdout.getReader();
    await reader.read();
    reader.releaseLock();
  } finally {
    child.kill(9);
    await child.exited;
  }
  expect(statSync(path).isSocket()).toBe(true);
}

describe("bunAdapter.listenSpop() on a unix socket", () => {
  test("replaces a stale socket file, applies the mode and echoes over the socket", async () => {
    const path = join(dir, "agent.sock");
    await staleSocket(path);
    const remotes: string[] = [];
    const listener = await bunAdapter.listenSpop({ kind: "unix", path, mode: 0o660 }, echo(remotes));
    try {
      expect(listener.address).toBe(`unix:${path}`);
      expect(listener.port).toBe(0);
      expect(statSync(path).mode & 0o777).toBe(0o660);
      const client = connect(path);
      const reply = await new Promise<string>((done) => {
        client.on("connect", () => client.write("ping"));
        client.on("data", (data) => done(data.toString()));
      });
      client.destroy();
      expect(reply).toBe("ping");
      expect(remotes).toEqual(["unix"]);
    } finally {
      await listener.close();
    }
    expect(existsSync(path)).toBe(false);
  });

  test("refuses a path that is a regular file and leaves the file untouched", async () => {
    const path = join(dir, "config.yaml");
    writeFileSync(path, "precious");
    const attempt = bunAdapter.listenSpop({ kind: "unix", path }, () => noop);
    await expect(attempt).rejects.toBeInstanceOf(RuntimeAdapterError);
    await expect(attempt).rejects.toThrow("is not a socket");
    expect(readFileSync(path, "utf8")).toBe("precious");
  });
});

describe("bunAdapter.listenSpop() on TCP", () => {
  test("reports the real port when port 0 is asked", async () => {
    const listener = await bunAdapter.listenSpop({ kind: "tcp", hostname: "127.0.0.1", port: 0 }, () => noop);
    try {
      expect(listener.port).toBeGreaterThan(0);
      expect(listener.address).toBe(`127.0.0.1:${listener.port}`);
    } finally {
      await listener.close();
    }
  });

  test("binds a second listener to the same port with reusePort", async () => {
    const address = { kind: "tcp", hostname: "127.0.0.1", port: 0, reusePort: true } as const;
    const first = await bunAdapter.listenSpop(address, () => noop);
    const second = await bunAdapter.listenSpop({ ...address, port: first.port }, () => noop);
    expect(second.port).toBe(first.port);
    await first.close();
    await second.close();
  });

  test("throws RuntimeAdapterError listen-failed when the port is taken without reusePort", async () => {
    const first = await bunAdapter.listenSpop({ kind: "tcp", hostname: "127.0.0.1", port: 0 }, () => noop);
    try {
      const attempt = bunAdapter.listenSpop({ kind: "tcp", hostname: "127.0.0.1", port: first.port }, () => noop);
      await expect(attempt).rejects.toMatchObject({ name: "RuntimeAdapterError", code: "listen-failed" });
    } finally {
      await first.close();
    }
  });
});

describe("bunAdapter.serveHttp()", () => {
  const handler = (request: Request) => new Response(`hello ${new URL(request.url).pathname}`, { headers: { "x-runtime": "bun" } });

  test("answers a GET with the handler's response on the real port", async () => {
    const server = await bunAdapter.serveHttp({ kind: "tcp", hostname: "127.0.0.1", port: 0 }, handler);
    try {
      expect(server.port).toBeGreaterThan(0);
      expect(server.address).toBe(`127.0.0.1:${server.port}`);
      const response = await fetch(`http://127.0.0.1:${server.port}/metrics`);
      expect(response.status).toBe(200);
      expect(response.headers.get("x-runtime")).toBe("bun");
      expect(await response.text()).toBe("hello /metrics");
    } finally {
      await server.close();
    }
  });

  test("serves on a unix socket with the mode applied", async () => {
    const path = join(dir, "http.sock");
    const server = await bunAdapter.serveHttp({ kind: "unix", path, mode: 0o600 }, handler);
    try {
      expect(statSync(path).mode & 0o777).toBe(0o600);
      const response = await fetch("http://localhost/healthz", { unix: path });
      expect(await response.text()).toBe("hello /healthz");
    } finally {
      await server.close();
    }
  });
});
