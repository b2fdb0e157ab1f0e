/**
 * HAProxy-side load for production e2e tests: many raw SPOP connections (TCP or unix socket)
 * that keep every frame the agent sent — ACKs by stream-id, the AGENT-DISCONNECT, how the socket
 * ended — so a test can count exactly what was answered around a signal or a storm.
 * @module
 */
import { connect, type Socket } from "node:net";
import { type AgentReply, SpopClient } from "../../src/spop/client.ts";
import { checkRateMessage, verdictOf } from "./spop-socket.ts";

/** Where the agent listens: a loopback TCP port or a unix socket path. */
export type SpopTarget = { readonly port: number } | { readonly path: string };

/** How a connection ended, seen from the client. */
export interface ConnectionEnd {
  /** The socket error (e.g. ECONNRESET), if it ended with one. */
  readonly error?: string;
}

/** Rejects with `what` after `ms`, so no wait in a test is unbounded. */
export function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** Opens a plain socket to `target`; rejects on a refused or failed connect. */
export function openSocket(target: SpopTarget, timeoutMs = 5_000): Promise<Socket> {
  return withDeadline(
    new Promise<Socket>((resolve, reject) => {
      const socket = "path" in target ? connect({ path: target.path }) : connect({ host: "127.0.0.1", port: target.port, noDelay: true });
      socket.once("connect", () => {
        socket.removeListener("error", reject);
        resolve(socket);
      });
      socket.once("error", reject);
    }),
    timeoutMs,
    `connect to ${JSON.stringify(target)}`,
  );
}

/** One recording SPOP connection. */
export class LoadConnection {
  readonly socket: Socket;
  readonly client: SpopClient;
  /** Stream-ids of every NOTIFY written, in order. */
  readonly sent: number[] = [];
  /** Stream-ids whose ACK arrived. */
  readonly acked = new Set<number>();
  /** ACKs that said `txn.allowed` false. */
  denied = 0;
  /** Every non-ACK frame the agent sent (AGENT-HELLO, AGENT-DISCONNECT…), in order. */
  readonly control: AgentReply[] = [];
  /** Resolves when the socket is closed. */
  readonly ended: Promise<ConnectionEnd>;
  /** Frames that arrived after the AGENT-DISCONNECT (must stay 0). */
  framesAfterDisconnect = 0;
  #nextStream = 1;
  #error: string | undefined;
  #isEnded = false;
  #ackWaiters: Array<{ count: number; resolve: () => void }> = [];

  constructor(socket: Socket) {
    this.socket = socket;
    this.client = new SpopClient((bytes) => socket.write(bytes));
    socket.on("data", (chunk: Buffer) => this.#onData(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length)));
    socket.on("error", (error: NodeJS.ErrnoException) => {
      this.#error ??= error.code ?? error.message;
    });
    this.ended = new Promise((resolve) => {
      socket.once("close", () => {
        this.#isEnded = true;
        resolve(this.#error === undefined ? {} : { error: this.#error });
      });
    });
  }

  /** True once the socket closed. */
  get isEnded(): boolean {
    return this.#isEnded;
  }

  /** The AGENT-DISCONNECT received, if any. */
  get disconnect(): { readonly status: number; readonly message: string } | undefined {
    const frame = this.control.find((r) => r.type === "agent-disconnect");
    return frame?.type === "agent-disconnect" ? { status: frame.status, message: frame.message } : undefined;
  }

  #onData(bytes: Uint8Array): void {
    const before = this.client.replies.length;
    this.client.receive(bytes);
    const replies = this.client.replies;
    for (let i = before; i < replies.length; i++) {
      const reply = replies[i];
      if (this.disconnect !== undefined) this.framesAfterDisconnect++;
      if (reply.type === "ack") {
        this.acked.add(Number(reply.streamId));
        if (!verdictOf(reply.actions, 0, 0).allowed) this.denied++;
      } else {
        this.control.push(reply);
      }
    }
    // Keep memory flat: everything needed was copied out above.
    replies.length = 0;
    this.#ackWaiters = this.#ackWaiters.filter((w) => {
      if (this.acked.size < w.count) return true;
      w.resolve();
      return false;
    });
  }

  /** Sends HAPROXY-HELLO and waits for AGENT-HELLO. */
  async handshake(timeoutMs = 5_000): Promise<void> {
    this.client.hello();
    await withDeadline(
      new Promise<void>((resolve, reject) => {
        const check = () => {
          const first = this.control[0];
          if (first?.type === "agent-hello") return resolve();
          if (first !== undefined) return reject(new Error(`expected AGENT-HELLO, got ${first.type}`));
          if (this.#isEnded) return reject(new Error(`closed before AGENT-HELLO (${this.#error ?? "no error"})`));
          setTimeout(check, 2);
        };
        check();
      }),
      timeoutMs,
      "AGENT-HELLO",
    );
  }

  /** Writes one `check-rate` NOTIFY for `ipSrc`; returns its stream-id. */
  notify(ipSrc: number): number {
    const streamId = this.#nextStream++;
    this.sent.push(streamId);
    this.client.notify({ streamId, frameId: 1 }, [checkRateMessage(ipSrc)]);
    return streamId;
  }

  /** Resolves once `count` ACKs in total have arrived (bounded by `timeoutMs`). */
  waitForAcks(count: number, timeoutMs = 5_000): Promise<void> {
    if (this.acked.size >= count) return Promise.resolve();
    return withDeadline(
      new Promise<void>((resolve) => this.#ackWaiters.push({ count, resolve })),
      timeoutMs,
      `${count} ACKs (have ${this.acked.size})`,
    );
  }

  /** Resolves once all bytes written so far left the process (are in the kernel). */
  flushed(): Promise<void> {
    if (this.socket.writableLength === 0) return Promise.resolve();
    return withDeadline(new Promise<void>((resolve) => this.socket.write(new Uint8Array(0), () => resolve())), 5_000, "socket flush");
  }

  /** Ends the socket at once. */
  destroy(): void {
    this.socket.destroy();
  }
}

/** Connects to `target` and completes the HELLO handshake. */
export async function connectLoad(target: SpopTarget, timeoutMs = 5_000): Promise<LoadConnection> {
  const connection = new LoadConnection(await openSocket(target, timeoutMs));
  try {
    await connection.handshake(timeoutMs);
  } catch (error) {
    connection.destroy();
    throw error;
  }
  return connection;
}

/** Opens `count` connections in parallel batches of `batch`, each with its handshake done. */
export async function connectMany(target: SpopTarget, count: number, options: { readonly batch?: number; readonly timeoutMs?: number } = {}): Promise<LoadConnection[]> {
  const batch = options.batch ?? 200;
  const connections: LoadConnection[] = [];
  try {
    for (let at = 0; at < count; at += batch) {
      const size = Math.min(batch, count - at);
      connections.push(...(await Promise.all(Array.from({ length: size }, () => connectLoad(target, options.timeoutMs)))));
    }
  } catch (error) {
    for (const c of connections) c.destroy();
    throw error;
  }
  return connections;
}

/** The `n`-th test client address, 10.0.0.0 + n as an IPv4 uint32 (distinct keys for tests). */
export function loadIp(n: number): number {
  return (0x0a000000 + (n & 0xffffff)) >>> 0;
}

/** A running closed-loop load: each connection keeps `window` NOTIFYs unanswered. */
export interface Load {
  /** ACKs received so far over all connections. */
  acked(): number;
  /** NOTIFYs written so far over all connections. */
  sent(): number;
  /** Fills every connection's window now (the refill timer runs only every millisecond). */
  topUp(): void;
  /** Stops writing at once (synchronously): nothing is written after this returns. */
  stop(): void;
}

/** Starts a closed loop of NOTIFYs over `connections` (keys cycle over `keys` addresses). */
export function startLoad(connections: readonly LoadConnection[], options: { readonly window?: number; readonly keys?: number; readonly maxNotifies?: number } = {}): Load {
  const window = options.window ?? 16;
  const keys = options.keys ?? 1_000;
  const max = options.maxNotifies ?? 100_000;
  let total = 0;
  let stopped = false;
  const refill = () => {
    for (const c of connections) {
      if (c.isEnded || c.disconnect !== undefined) continue;
      while (!stopped && total < max && c.sent.length - c.acked.size < window) c.notify(loadIp(total++ % keys));
    }
  };
  const timer = setInterval(refill, 1);
  refill();
  return {
    acked: () => connections.reduce((n, c) => n + c.acked.size, 0),
    sent: () => connections.reduce((n, c) => n + c.sent.length, 0),
    topUp: refill,
    stop: () => {
      stopped = true;
      clearInterval(timer);
    },
  };
}
