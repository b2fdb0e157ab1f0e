// Bun socket facts of engineering-notes §4 (items 1–3), verified on our pinned Bun against the
// raw Bun.listen API, since the adapter's design depends on each of them.
import { describe, expect, test } from "bun:test";
import { connect, type Socket } from "node:net";
import { type BunSocket, type BunSocketHandler, bunGlobal } from "../../src/runtime/bun-api.ts";

type Events = { data: Uint8Array[]; closes: (Error | undefined)[]; opened: BunSocket<null>[] };

function recordingHandler(events: Events): BunSocketHandler<null> {
  return {
    binaryType: "uint8array",
    open: (socket) => void events.opened.push(socket),
    data: (_socket, chunk) => void events.data.push(chunk),
    drain: () => {},
    error: () => {},
    close: (_socket, error) => void events.closes.push(error),
  };
}

const newEvents = (): Events => ({ data: [], closes: [], opened: [] });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(what: string, predicate: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !predicate(); i++) await sleep(10);
  if (!predicate()) throw new Error(`timed out waiting for ${what}`);
}

async function open(port: number): Promise<Socket> {
  const socket = connect(port, "127.0.0.1");
  socket.on("error", () => {});
  await new Promise((resolve) => socket.once("connect", resolve));
  return socket;
}

describe("Bun 1.4.5 socket facts", () => {
  test("Bun.listen with reusePort binds two listeners to one port and connections land on both", async () => {
    const Bun = bunGlobal();
    const first = newEvents();
    const second = newEvents();
    const a = Bun.listen({ hostname: "127.0.0.1", port: 0, reusePort: true, socket: recordingHandler(first) });
    const b = Bun.listen({ hostname: "127.0.0.1", port: a.port ?? 0, reusePort: true, socket: recordingHandler(second) });
    try {
      expect(b.port).toBe(a.port);
      for (let i = 0; i < 64 && (first.opened.length === 0 || second.opened.length === 0); i++) {
        const socket = await open(a.port ?? 0);
        await until("accept", () => first.opened.length + second.opened.length === i + 1);
        socket.destroy();
      }
      expect(first.opened.length).toBeGreaterThan(0);
      expect(second.opened.length).toBeGreaterThan(0);
    } finally {
      a.stop(true);
      b.stop(true);
    }
  });

  test("Bun.listen without reusePort refuses a second listener on a bound port", () => {
    const Bun = bunGlobal();
    const a = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: recordingHandler(newEvents()) });
    try {
      expect(() => Bun.listen({ hostname: "127.0.0.1", port: a.port ?? 0, socket: recordingHandler(newEvents()) })).toThrow();
    } finally {
      a.stop(true);
    }
  });

  test("a paused socket gets no data, and a peer RST still reports close while paused", async () => {
    const Bun = bunGlobal();
    const events = newEvents();
    const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: recordingHandler(events) });
    try {
      const client = await open(listener.port ?? 0);
      await until("open", () => events.opened.length === 1);
      const socket = events.opened[0];
      expect(typeof socket.pause).toBe("function");
      expect(typeof socket.resume).toBe("function");
      socket.pause?.();
      client.write("while paused");
      await sleep(100);
      expect(events.data.length).toBe(0);
      client.resetAndDestroy();
      await until("close", () => events.closes.length === 1);
      expect((events.closes[0] as { code?: string } | undefined)?.code).toBe("ECONNRESET");
    } finally {
      listener.stop(true);
    }
  });

  test("a paused socket holds a peer EOF (and its data) until resume()", async () => {
    const Bun = bunGlobal();
    const events = newEvents();
    const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: recordingHandler(events) });
    try {
      const client = await open(listener.port ?? 0);
      await until("open", () => events.opened.length === 1);
      events.opened[0].pause?.();
      client.end("last words");
      await sleep(150);
      expect(events.closes.length).toBe(0);
      events.opened[0].resume?.();
      await until("close after resume", () => events.closes.length === 1);
      expect(Buffer.concat(events.data).toString()).toBe("last words");
      expect(events.closes[0]).toBeUndefined();
    } finally {
      listener.stop(true);
    }
  });

  test("a data chunk stays intact after its callback returns (Bun does not reuse the memory)", async () => {
    const Bun = bunGlobal();
    const events = newEvents();
    const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: recordingHandler(events) });
    try {
      const client = await open(listener.port ?? 0);
      const expected = new Uint8Array(2 * 1024 * 1024).map((_, i) => (i * 31) % 253);
      for (let offset = 0, i = 0; offset < expected.length; i++) {
        const size = 1 + ((i * 7727) % 70_000);
        if (!client.write(expected.subarray(offset, offset + size))) await new Promise((r) => client.once("drain", r));
        offset += size;
      }
      client.end();
      await until("close", () => events.closes.length === 1);
      expect(events.data.length).toBeGreaterThan(1);
      expect(events.data.every((chunk) => chunk instanceof Uint8Array && !Buffer.isBuffer(chunk))).toBe(true);
      expect(new Uint8Array(Buffer.concat(events.data))).toEqual(expected);
    } finally {
      listener.stop(true);
    }
  });
});
