/**
 * SpopClient over a real TCP socket (node:net): HELLO handshake, then pipelined `check-rate`
 * NOTIFYs, each resolved with its own ACK (matched by stream-id) or rejected when no ACK
 * arrives within `timeoutMs` — so a hung agent fails a test instead of hanging it.
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

interface Waiter {
  readonly resolve: (actions: readonly Action[], receivedAt: number) => void;
  readonly reject: (e: Error) => void;
  readonly timer: ReturnType<typeof setTimeout>;
}

/** A HAProxy-like SPOP connection to an agent. */
export class SpopSocket {
  readonly #socket: Socket;
  readonly #client: SpopClient;
  readonly #waiters = new Map<number, Waiter>();
  readonly #timeoutMs: number;
  #nextStream = 1;
  #closed: Error | undefined;

  /** Wraps a connected socket; use `connectSpop` to also do the handshake. */
  constructor(socket: Socket, timeoutMs: number) {
    this.#socket = socket;
    this.#timeoutMs = timeoutMs;
    this.#client = new SpopClient((bytes) => socket.write(bytes));
    socket.on("data", (chunk: Buffer) => this.#onData(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length)));
    const fail = (error: Error) => {
      this.#closed ??= error;
      for (const [id, w] of this.#waiters) {
        clearTimeout(w.timer);
        w.reject(new Error(`stream ${id}: connection ended before its ACK (${error.message})`));
      }
      this.#waiters.clear();
    };
    socket.on("error", fail);
    socket.on("close", () => fail(new Error("socket closed")));
  }

  /** Sends HAPROXY-HELLO and waits for AGENT-HELLO. */
  async handshake(): Promise<void> {
    this.#client.hello();
    const deadline = setTimeout(() => this.#socket.destroy(new Error("no AGENT-HELLO")), this.#timeoutMs);
    try {
      const replies = await Promise.race([
        this.#client.waitForReplies(1),
        new Promise<never>((_, reject) => this.#socket.once("close", () => reject(this.#closed ?? new Error("socket closed")))),
      ]);
      const first = replies[0];
      if (first.type !== "agent-hello") throw new Error(`expected AGENT-HELLO, got ${first.type}`);
    } finally {
      clearTimeout(deadline);
    }
  }

  #onData(bytes: Uint8Array): void {
    const before = this.#client.replies.length;
    this.#client.receive(bytes);
    const now = performance.now();
    const replies = this.#client.replies;
    for (let i = before; i < replies.length; i++) this.#dispatch(replies[i], now);
    // Keep memory flat under long runs: the ACKs were handed to their waiters.
    if (replies.length > 1024) replies.splice(1, replies.length - 1);
  }

  #dispatch(reply: AgentReply, now: number): void {
    if (reply.type !== "ack") return;
    const id = Number(reply.streamId);
    const w = this.#waiters.get(id);
    if (!w) return;
    this.#waiters.delete(id);
    clearTimeout(w.timer);
    w.resolve(reply.actions, now);
  }

  /** Sends one `check-rate` NOTIFY for `ipSrc` and resolves with its ACK's verdict. */
  async check(ipSrc: number, options: { readonly message?: string } = {}): Promise<Verdict> {
    const sentAt = performance.now();
    let receivedAt = sentAt;
    const actions = await this.#notify([checkRateMessage(ipSrc, options.message)], (at) => (receivedAt = at));
    return verdictOf(actions, sentAt, receivedAt);
  }

  /** Sends one NOTIFY with any messages and resolves with its ACK's actions. */
  request(messages: readonly Message[]): Promise<readonly Action[]> {
    return this.#notify(messages, () => {});
  }

  #notify(messages: readonly Message[], answeredAt: (at: number) => void): Promise<readonly Action[]> {
    if (this.#closed) return Promise.reject(this.#closed);
    const streamId = this.#nextStream++;
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
      this.#client.notify({ streamId, frameId: 1 }, messages);
    });
  }

  /** Sends HAPROXY-DISCONNECT and closes the socket. */
  close(): void {
    if (!this.#closed && !this.#socket.destroyed) {
      try {
        this.#client.disconnect(0);
      } catch {
        // already closing
      }
    }
    this.#socket.destroy();
  }
}

/** Connects to 127.0.0.1:`port` and completes the HELLO handshake; ACKs wait `timeoutMs` (5 s). */
export async function connectSpop(port: number, options: { readonly timeoutMs?: number } = {}): Promise<SpopSocket> {
  const socket = await new Promise<Socket>((resolve, reject) => {
    const s = connect({ host: "127.0.0.1", port, noDelay: true });
    s.once("connect", () => resolve(s));
    s.once("error", reject);
  });
  const spop = new SpopSocket(socket, options.timeoutMs ?? 5_000);
  try {
    await spop.handshake();
  } catch (error) {
    spop.close();
    throw error;
  }
  return spop;
}

/** The `n`-th test client address, 10.0.0.0 + n as an IPv4 uint32 (distinct keys for tests). */
export function clientIp(n: number): number {
  return (0x0a000000 + (n & 0xffffff)) >>> 0;
}

/**
 * Sum of the samples named `name` on the agent's /metrics at `address` ("host:port"), over
 * the samples whose labels include `labels`; 0 when there are none.
 */
export async function metricSum(address: string, name: string, labels: Readonly<Record<string, string>> = {}): Promise<number> {
  const text = await (await fetch(`http://${address}/metrics`)).text();
  let sum = 0;
  for (const line of text.split("\n")) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (m === null || m[1] !== name) continue;
    const have = m[2] ?? "";
    if (Object.entries(labels).every(([k, v]) => have.includes(`${k}="${v}"`))) sum += Number(m[3]);
  }
  return sum;
}
