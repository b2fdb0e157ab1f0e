// The transport contract (src/agent/transport.ts), checked from outside with node:net clients
// against an adapter serving the echo port of tests/helpers/deno-transport-runner.ts.
// Each runtime's contract test calls runTransportSuite with a way to start that server.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect, type Socket } from "node:net";
import { BIG, type EchoStats, FRAMES, frame, pattern, TAIL } from "../helpers/deno-transport-runner.ts";

/** A running echo server behind one adapter. */
export interface TransportHarness {
  readonly port: number;
  stop(): Promise<void>;
}

/** How a runtime's contract test starts its server; `skip` names tests to skip, with the reason. */
export interface TransportSuiteOptions {
  start(): Promise<TransportHarness>;
  skip?: Readonly<Record<string, string>>;
}

/** A node:net client that collects everything it receives. */
class Client {
  readonly socket: Socket;
  #chunks: Buffer[] = [];
  #length = 0;
  ended = false;
  closed = false;
  #waiters = new Set<() => void>();

  constructor(socket: Socket) {
    this.socket = socket;
    socket.on("data", (chunk: Buffer) => {
      this.#chunks.push(chunk);
      this.#length += chunk.length;
      this.#notify();
    });
    socket.on("end", () => {
      this.ended = true;
      this.#notify();
    });
    socket.on("close", () => {
      this.closed = true;
      this.#notify();
    });
    socket.on("error", () => this.#notify());
  }

  static async open(port: number): Promise<Client> {
    const socket = connect(port, "127.0.0.1");
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", reject);
    });
    return new Client(socket);
  }

  get length(): number {
    return this.#length;
  }

  bytes(): Uint8Array {
    return new Uint8Array(Buffer.concat(this.#chunks));
  }

  text(): string {
    return Buffer.concat(this.#chunks).toString("latin1");
  }

  /** Waits (bounded) until `predicate` holds, re-checking on every socket event. */
  async until(what: string, predicate: () => boolean, timeoutMs = 15_000): Promise<void> {
    if (predicate()) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error(`timed out waiting for ${what} (have ${this.#length} bytes, ended=${this.ended})`));
      }, timeoutMs);
      const check = () => {
        if (!predicate()) return;
        clearTimeout(timer);
        this.#waiters.delete(check);
        resolve();
      };
      this.#waiters.add(check);
    });
  }

  #notify(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }
}

async function stats(port: number): Promise<EchoStats & { remote: string }> {
  const client = await Client.open(port);
  client.socket.write("S");
  await client.until("stats", () => client.ended);
  client.socket.destroy();
  return JSON.parse(client.text());
}

async function waitForStats(port: number, what: string, predicate: (s: EchoStats) => boolean): Promise<EchoStats> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const current = await stats(port);
    if (predicate(current)) return current;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Registers the transport contract tests for one adapter. */
export function runTransportSuite(name: string, options: TransportSuiteOptions): void {
  describe(`${name} transport contract`, () => {
    let harness: TransportHarness;
    beforeAll(async () => {
      harness = await options.start();
    });
    afterAll(async () => {
      await harness?.stop();
    });
    const it = (title: string, body: () => Promise<void>) => {
      const reason = options.skip?.[title];
      if (reason !== undefined) test.skip(`${title} (skipped: ${reason})`, body);
      else test(title, body, 30_000);
    };

    it("receive() gets the bytes in order across many chunks and write() echoes them in order", async () => {
      const client = await Client.open(harness.port);
      client.socket.write("E");
      const expected = pattern(0, 600_000);
      for (let offset = 0, i = 0; offset < expected.length; i++) {
        const size = 1 + ((i * 4099) % 9000);
        const ok = client.socket.write(expected.subarray(offset, offset + size));
        offset += size;
        if (!ok) await new Promise((resolve) => client.socket.once("drain", resolve));
      }
      await client.until("the echo", () => client.length >= expected.length);
      expect(client.bytes()).toEqual(expected);
      client.socket.destroy();
    });

    it("write() of 4 MiB to a client that does not read returns false and drained() follows once it reads", async () => {
      const client = await Client.open(harness.port);
      client.socket.pause();
      client.socket.write("B");
      await sleep(200);
      client.socket.resume();
      await client.until("the big write and trailer", () => client.ended);
      const received = client.bytes();
      expect(received.length).toBeGreaterThan(BIG + TAIL);
      expect(received.subarray(0, BIG + TAIL)).toEqual(pattern(0, BIG + TAIL));
      expect(new TextDecoder().decode(received.subarray(BIG + TAIL))).toBe("|r1=false r2=false drained|");
      client.socket.destroy();
    });

    it("end() sends every pending byte before FIN", async () => {
      const client = await Client.open(harness.port);
      client.socket.pause();
      client.socket.write("F");
      await sleep(100);
      client.socket.resume();
      await client.until("EOF", () => client.ended);
      expect(client.length).toBe(BIG);
      expect(client.bytes()).toEqual(pattern(0, BIG));
      client.socket.destroy();
    });

    it("writes queued behind a congested socket are never reordered or interleaved", async () => {
      const client = await Client.open(harness.port);
      client.socket.pause();
      client.socket.write("W");
      await sleep(100);
      client.socket.resume();
      await client.until("EOF", () => client.ended);
      const received = client.bytes();
      let offset = 0;
      for (let seq = 0; seq < FRAMES; seq++) {
        const expected = frame(seq);
        if (!Buffer.from(received.subarray(offset, offset + expected.length)).equals(Buffer.from(expected))) {
          throw new Error(`frame ${seq} differs at offset ${offset}`);
        }
        offset += expected.length;
      }
      expect(offset).toBe(received.length);
      client.socket.destroy();
    });

    it("pause() stops receive() calls and resume() restarts them", async () => {
      const client = await Client.open(harness.port);
      client.socket.write("P");
      await client.until("the pause mark", () => client.text() === "P\n");
      client.socket.write("hello");
      await client.until("the resume report and echo", () => client.text().endsWith("hello"));
      expect(client.text()).toBe("P\nR0\nhello");
      client.socket.destroy();
    });

    it("a peer EOF reports closed() without an error", async () => {
      const before = await stats(harness.port);
      const client = await Client.open(harness.port);
      client.socket.write("Eabc");
      await client.until("the echo", () => client.length === 3);
      client.socket.end();
      const after = await waitForStats(harness.port, "closed()", (s) => s.closed >= before.closed + 2);
      expect(after.closeErrors).toEqual(before.closeErrors);
      client.socket.destroy();
    });

    it("a peer RST reports closed() without an error", async () => {
      const before = await stats(harness.port);
      const client = await Client.open(harness.port);
      client.socket.write("Eabc");
      await client.until("the echo", () => client.length === 3);
      client.socket.resetAndDestroy();
      const after = await waitForStats(harness.port, "closed()", (s) => s.closed >= before.closed + 2);
      expect(after.closeErrors).toEqual(before.closeErrors);
    });

    it("end() closes the connection and closed() follows", async () => {
      const before = await stats(harness.port);
      const client = await Client.open(harness.port);
      client.socket.write("X");
      await client.until("EOF", () => client.ended);
      client.socket.end();
      const after = await waitForStats(harness.port, "closed()", (s) => s.closed >= before.closed + 2);
      expect(after.closeErrors).toEqual(before.closeErrors);
    });

    it("end() on a paused transport still reports closed() once the peer closes", async () => {
      const before = await stats(harness.port);
      const client = await Client.open(harness.port);
      client.socket.write("Q");
      await client.until("EOF", () => client.ended);
      client.socket.end("ignored");
      const after = await waitForStats(harness.port, "closed()", (s) => s.closed >= before.closed + 2);
      expect(after.closeErrors).toEqual(before.closeErrors);
    });

    it("remoteAddress names the peer's IP and port", async () => {
      const client = await Client.open(harness.port);
      const localPort = client.socket.localPort;
      client.socket.write("S");
      await client.until("stats", () => client.ended);
      expect(JSON.parse(client.text()).remote).toBe(`127.0.0.1:${localPort}`);
      client.socket.destroy();
    });

    it("200 concurrent connections each get their own bytes back", async () => {
      const clients = await Promise.all(Array.from({ length: 200 }, () => Client.open(harness.port)));
      clients.forEach((client, i) => client.socket.write(`Econnection-${i}-payload`));
      await Promise.all(clients.map((client, i) => client.until(`echo ${i}`, () => client.text() === `connection-${i}-payload`)));
      for (const client of clients) client.socket.destroy();
    });
  });
}
