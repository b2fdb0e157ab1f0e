/**
 * The HAProxy side of SPOP, for testing agents: builds HELLO/NOTIFY/DISCONNECT frames with the
 * codec and parses the agent's replies. Independent of any transport: `SpopClient` sends
 * through a callback and is fed received bytes, so the same code drives an in-memory
 * transport or a socket.
 * @module
 */
import { type DecodedFrame, decodeFrame } from "./codec.ts";
import { type HaproxyHello, writeDisconnect, writeHaproxyHello, writeNotify } from "./frame.ts";
import { type Message, FrameFlag, FrameType } from "./types.ts";
import { Writer } from "./writer.ts";

/**
 * Stream-id and frame-id of a NOTIFY; bigints for ids ≥ 2^53.
 *
 * @example The ids of the first NOTIFY of stream 7
 * ```ts
 * import type { NotifyIds } from "@spoa-gcra/spoa-gcra/testing";
 *
 * const ids: NotifyIds = { streamId: 7, frameId: 1 };
 * console.assert(ids.frameId === 1);
 * ```
 */
export interface NotifyIds {
  readonly streamId: number | bigint;
  readonly frameId: number | bigint;
}

/**
 * The HELLO a 3.1+ HAProxy sends at runtime (spop-protocol.md §11 vector V1): version 2.0,
 * max-frame-size 16380, pipelining. `SpopClient.hello()` sends it unless told otherwise.
 *
 * @example What the engine negotiates against
 * ```ts
 * import { RUNTIME_HELLO } from "@spoa-gcra/spoa-gcra/testing";
 *
 * console.assert(RUNTIME_HELLO.maxFrameSize === 16380 && RUNTIME_HELLO.capabilities.includes("pipelining"));
 * ```
 */
export const RUNTIME_HELLO: HaproxyHello = Object.freeze({
  supportedVersions: ["2.0"],
  maxFrameSize: 16380,
  capabilities: ["pipelining"],
  engineId: "8f2b6c1e-3d4a-4e5f-9a7b-0c1d2e3f4a5b",
});

/** A HAPROXY-HELLO frame; fields default to RUNTIME_HELLO. */
export function helloFrame(overrides: Partial<HaproxyHello> = {}): Uint8Array {
  const w = new Writer(256);
  writeHaproxyHello(w, { ...RUNTIME_HELLO, ...overrides });
  return w.take();
}

/** A NOTIFY frame carrying `messages`. */
export function notifyFrame(ids: NotifyIds, messages: readonly Message[]): Uint8Array {
  const w = new Writer(256);
  writeNotify(w, ids, messages);
  return w.take();
}

/** A HAPROXY-DISCONNECT frame (message defaults to HAProxy's text for the status). */
export function disconnectFrame(status = 0, message?: string): Uint8Array {
  const w = new Writer(128);
  writeDisconnect(w, FrameType.HAPROXY_DISCONNECT, status, message);
  return w.take();
}

/** Any frame, including malformed ones: raw type, flags, id bytes (default `00 00`) and payload. */
export function rawFrame(
  type: number,
  options: { flags?: number; idBytes?: Uint8Array; payload?: Uint8Array } = {},
): Uint8Array {
  const w = new Writer(64);
  const mark = w.beginFrame(type, options.flags ?? FrameFlag.FIN);
  w.bytes(options.idBytes ?? new Uint8Array([0, 0]));
  w.bytes(options.payload ?? new Uint8Array(0));
  w.endFrame(mark);
  return w.take();
}

/** A one-argument message, the usual NOTIFY content in tests. */
export function message(name: string, key = "k"): Message {
  return { name, args: [{ name: "key", kind: "string", value: key }] };
}

/**
 * One decoded agent frame plus its exact bytes (length prefix included).
 *
 * @example Tell ACKs from other replies
 * ```ts
 * import type { AgentReply } from "@spoa-gcra/spoa-gcra/testing";
 *
 * const describe = (reply: AgentReply) => (reply.type === "ack" ? `ACK ${reply.streamId}/${reply.frameId}` : reply.type);
 * console.assert(typeof describe === "function");
 * ```
 */
export type AgentReply = DecodedFrame & { readonly bytes: Uint8Array };

/** Splits a byte stream into whole frames; keeps an incomplete tail for the next push. */
export class ReplyParser {
  #buf = new Uint8Array(0);

  /** Adds bytes and returns every frame they complete. */
  push(bytes: Uint8Array): AgentReply[] {
    const joined = new Uint8Array(this.#buf.length + bytes.length);
    joined.set(this.#buf, 0);
    joined.set(bytes, this.#buf.length);
    const out: AgentReply[] = [];
    let at = 0;
    while (joined.length - at >= 4) {
      const length = new DataView(joined.buffer, joined.byteOffset + at, 4).getUint32(0);
      if (joined.length - at < 4 + length) break;
      const frameBytes = joined.slice(at, at + 4 + length);
      out.push({ ...decodeFrame(frameBytes), bytes: frameBytes });
      at += 4 + length;
    }
    this.#buf = joined.slice(at);
    return out;
  }

  /** Bytes of an incomplete frame still waiting. */
  get pendingBytes(): number {
    return this.#buf.length;
  }
}

/** Parses a complete byte stream into frames (throws on a truncated tail). */
export function parseReplies(bytes: Uint8Array): AgentReply[] {
  const parser = new ReplyParser();
  const replies = parser.push(bytes);
  if (parser.pendingBytes > 0) throw new Error(`parseReplies: ${parser.pendingBytes} trailing bytes`);
  return replies;
}

/**
 * A HAProxy-side session: sends frames via `send`, collects the agent's replies fed to
 * `receive`, and resolves `waitForReplies` as they arrive.
 *
 * @example Ask an agent in memory and read its ACK
 * ```ts
 * import { Agent, setVar } from "@spoa-gcra/spoa-gcra";
 * import { timers } from "@spoa-gcra/spoa-gcra/bun";
 * import { connectInMemory } from "@spoa-gcra/spoa-gcra/testing";
 *
 * const agent = new Agent({ handler: { handle: () => [setVar("txn", "ok", true)], failureActions: () => [] }, timers });
 * const { client } = connectInMemory(agent);
 * client.hello();
 * client.notify({ streamId: 1, frameId: 1 }, [{ name: "check", args: [] }]);
 * await client.waitForReplies(2);
 * console.assert(JSON.stringify(client.acks()[0].actions) === JSON.stringify([setVar("txn", "ok", true)]));
 * ```
 */
export class SpopClient {
  /** Every reply received so far, in order. */
  readonly replies: AgentReply[] = [];
  readonly #send: (bytes: Uint8Array) => void;
  readonly #parser = new ReplyParser();
  #waiters: Array<{ count: number; resolve: () => void }> = [];

  /**
   * A session that writes through `send`.
   * @param send Delivers bytes to the agent (e.g. `MemoryTransport.send` or a socket's write).
   */
  constructor(send: (bytes: Uint8Array) => void) {
    this.#send = send;
  }

  /**
   * Sends raw bytes (one or several frames, or a fragment of one).
   * @param bytes Anything, malformed frames included.
   */
  sendRaw(bytes: Uint8Array): void {
    this.#send(bytes);
  }

  /**
   * Sends a HAPROXY-HELLO.
   * @param overrides Fields that differ from `RUNTIME_HELLO` (e.g. `{ healthcheck: true }`).
   */
  hello(overrides: Partial<HaproxyHello> = {}): void {
    this.#send(helloFrame(overrides));
  }

  /**
   * Sends a NOTIFY.
   * @param ids Its stream-id and frame-id; the ACK carries the same.
   * @param messages The messages HAProxy would send (name and typed arguments).
   */
  notify(ids: NotifyIds, messages: readonly Message[]): void {
    this.#send(notifyFrame(ids, messages));
  }

  /**
   * Sends a HAPROXY-DISCONNECT.
   * @param status The status code (0: normal).
   * @param message The text; defaults to HAProxy's for the status.
   */
  disconnect(status = 0, message?: string): void {
    this.#send(disconnectFrame(status, message));
  }

  /**
   * Feed bytes received from the agent.
   * @param bytes Any slice of the agent's output; incomplete frames wait for the rest.
   */
  receive(bytes: Uint8Array): void {
    this.replies.push(...this.#parser.push(bytes));
    this.#waiters = this.#waiters.filter((w) => {
      if (this.replies.length < w.count) return true;
      w.resolve();
      return false;
    });
  }

  /**
   * Resolves once `count` replies in total have arrived.
   * @param count Replies since the session began, the AGENT-HELLO included.
   * @returns Every reply so far.
   */
  waitForReplies(count: number): Promise<AgentReply[]> {
    if (this.replies.length >= count) return Promise.resolve(this.replies);
    return new Promise((resolve) => {
      this.#waiters.push({ count, resolve: () => resolve(this.replies) });
    });
  }

  /**
   * The ACK replies received so far.
   * @returns The ACKs in arrival order.
   */
  acks(): Array<Extract<AgentReply, { type: "ack" }>> {
    return this.replies.filter((r): r is Extract<AgentReply, { type: "ack" }> => r.type === "ack");
  }
}
