/**
 * The tests' one SPOP socket client: SpopClient over a real socket (node:net, TCP or unix),
 * playing HAProxy. It completes the HELLO, then either asks (`check`, `request`: each NOTIFY
 * resolved with its own ACK, matched by stream-id, or rejected when none arrives within
 * `timeoutMs`, so a hung agent fails a test instead of hanging it) or loads (`notify`: NOTIFYs
 * written and only counted), and records every frame the agent sent — ACKs by stream-id, the
 * AGENT-DISCONNECT, how the socket ended — so a test can count exactly what was answered.
 * @module
 */
import { connect, type Socket } from "node:net";
import type { Action, Message, TypedData } from "../../src/spop/types.ts";
import { type AgentReply, SpopClient } from "../../src/spop/client.ts";

/** One decision as HAProxy would see it: the ACK's variables plus when it was sent and answered. */
export interface Verdict {
  /** `txn.allowed`. */
  readonly allowed: boolean;
  /** `sess.ip_score` (0 allow, 100 deny). */
  readonly ipScore: number;
  /** `txn.retry_after` in seconds (denials only). */
  readonly retryAfter?: number;
  /** True when `txn.degraded` = 1 (the failure policy decided). */
  readonly degraded: boolean;
  /** Every set-var as `scope.name` → value, in ACK order. */
  readonly vars: ReadonlyMap<string, TypedData>;
  readonly actions: readonly Action[];
  /** performance.now() when the NOTIFY was written and when its ACK was parsed. */
  readonly sentAt: number;
  readonly receivedAt: number;
}

/** The seed's `check-rate` message: ip_fwd and ip_xff NULL, ip_src an IPv4 address (uint32). */
export function checkRateMessage(ipSrc: number, name = "check-rate"): Message {
  return {
    name,
    args: [
      { name: "ip_fwd", kind: "null" },
      { name: "ip_xff", kind: "null" },
      { name: "ip_src", kind: "ipv4", value: ipSrc >>> 0 },
    ],
  };
}

/** Reads an ACK's actions into a Verdict. */
export function verdictOf(actions: readonly Action[], sentAt: number, receivedAt: number): Verdict {
  const vars = new Map<string, TypedData>();
  for (const a of actions) if (a.type === "set-var") vars.set(`${a.scope}.${a.name}`, a.value);
  const num = (key: string): number | undefined => {
    const v = vars.get(key);
    return v !== undefined && "value" in v && typeof v.value === "number" ? v.value : undefined;
  };
  const allowed = vars.get("txn.allowed");
  return {
    allowed: allowed?.kind === "bool" && allowed.value,
    ipScore: num("sess.ip_score") ?? -1,
    retryAfter: num("txn.retry_after"),
    degraded: num("txn.degraded") === 1,
    vars,
    actions,
    sentAt,
    receivedAt,
  };
}

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

interface Waiter {
  readonly resolve: (actions: readonly Action[], receivedAt: number) => void;
  readonly reject: (e: Error) => void;
  readonly timer: ReturnType<typeof setTimeout>;
}

/** One HAProxy-like SPOP connection to an agent. */
export class SpopConnection {
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
  readonly #timeoutMs: number;
  readonly #waiters = new Map<number, Waiter>();
  #nextStream = 1;
  #error: string | undefined;
  #isEnded = false;
  #ackWaiters: Array<{ count: number; resolve: () => void }> = [];

  /** Wraps a connected socket; `connectSpop` also does the handshake. ACKs wait `timeoutMs`. */
  constructor(socket: Socket, timeoutMs = 5_000) {
    this.socket = socket;
    this.#timeoutMs = timeoutMs;
    this.client = new SpopClient((bytes) => socket.write(bytes));
    socket.on("data", (chunk: Buffer) => this.#onData(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length)));
    socket.on("error", (error: NodeJS.ErrnoException) => {
      this.#error ??= error.code ?? error.message;
    });
    this.ended = new Promise((resolve) => {
      socket.once("close", () => {
        this.#isEnded = true;
        const reason = `connection ended before its ACK (${this.#error ?? "socket closed"})`;
        for (const [id, w] of this.#waiters) {
          clearTimeout(w.timer);
          w.reject(new Error(`stream ${id}: ${reason}`));
        }
        this.#waiters.clear();
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
    const now = performance.now();
    const replies = this.client.replies;
    for (let i = before; i < replies.length; i++) {
      const reply = replies[i];
      if (this.disconnect !== undefined) this.framesAfterDisconnect++;
      if (reply.type === "ack") {
        const id = Number(reply.streamId);
        this.acked.add(id);
        if (!verdictOf(reply.actions, 0, 0).allowed) this.denied++;
        const waiter = this.#waiters.get(id);
        if (waiter !== undefined) {
          this.#waiters.delete(id);
          clearTimeout(waiter.timer);
          waiter.resolve(reply.actions, now);
        }
      } else {
        this.control.push(reply);
      }
    }
    // Keep memory flat under long runs: everything needed was handed out or copied above.
    replies.length = 0;
    this.#ackWaiters = this.#ackWaiters.filter((w) => {
      if (this.acked.size < w.count) return true;
      w.resolve();
      return false;
    });
  }

  /** Sends HAPROXY-HELLO and waits for AGENT-HELLO. */
  async handshake(timeoutMs = this.#timeoutMs): Promise<void> {
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

  /** Writes one `check-rate` NOTIFY for `ipSrc` without waiting; returns its stream-id. */
  notify(ipSrc: number): number {
    const streamId = this.#nextStream++;
    this.sent.push(streamId);
    this.client.notify({ streamId, frameId: 1 }, [checkRateMessage(ipSrc)]);
    return streamId;
  }

  /** Sends one `check-rate` NOTIFY for `ipSrc` and resolves with its ACK's verdict. */
  async check(ipSrc: number, options: { readonly message?: string } = {}): Promise<Verdict> {
    const sentAt = performance.now();
    let receivedAt = sentAt;
    const actions = await this.#ask([checkRateMessage(ipSrc, options.message)], (at) => (receivedAt = at));
    return verdictOf(actions, sentAt, receivedAt);
  }

  /** Sends one NOTIFY with any messages and resolves with its ACK's actions. */
  request(messages: readonly Message[]): Promise<readonly Action[]> {
    return this.#ask(messages, () => {});
  }

  #ask(messages: readonly Message[], answeredAt: (at: number) => void): Promise<readonly Action[]> {
    if (this.#isEnded) return Promise.reject(new Error(`connection ended (${this.#error ?? "socket closed"})`));
    const streamId = this.#nextStream++;
    this.sent.push(streamId);
    return new Promise<readonly Action[]>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(streamId);
        reject(new Error(`no ACK for stream ${streamId} within ${this.#timeoutMs} ms`));
      }, this.#timeoutMs);
      const answered = (actions: readonly Action[], at: number) => {
        answeredAt(at);
        resolve(actions);
      };
      this.#waiters.set(streamId, { resolve: answered, reject, timer });
      this.client.notify({ streamId, frameId: 1 }, messages);
    });
  }

  /** Resolves once `count` ACKs in total have arrived (bounded by `timeoutMs`). */
  waitForAcks(count: number, timeoutMs = this.#timeoutMs): Promise<void> {
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

  /** Sends HAPROXY-DISCONNECT and closes the socket. */
  close(): void {
    if (!this.#isEnded && !this.socket.destroyed) {
      try {
        this.client.disconnect(0);
      } catch {
        // already closing
      }
    }
    this.socket.destroy();
  }

  /** Ends the socket at once, without a HAPROXY-DISCONNECT. */
  destroy(): void {
    this.socket.destroy();
  }
}

/**
 * Connects to `target` (a port on 127.0.0.1, or `{ path }` of a unix socket) and completes the
 * HELLO handshake; ACKs wait `timeoutMs` (5 s).
 */
export async function connectSpop(target: number | SpopTarget, options: { readonly timeoutMs?: number } = {}): Promise<SpopConnection> {
  const timeoutMs = options.timeoutMs ?? 5_000;
  const connection = new SpopConnection(await openSocket(typeof target === "number" ? { port: target } : target, timeoutMs), timeoutMs);
  try {
    await connection.handshake(timeoutMs);
  } catch (error) {
    connection.destroy();
    throw error;
  }
  return connection;
}

/** The `n`-th test client address, 10.0.0.0 + n as an IPv4 uint32 (distinct keys for tests). */
export function clientIp(n: number): number {
  return (0x0a000000 + (n & 0xffffff)) >>> 0;
}
