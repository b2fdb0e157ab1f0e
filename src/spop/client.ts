/**
 * The HAProxy side of SPOP for tests: builds HELLO/NOTIFY/DISCONNECT frames with the codec and
 * parses the agent's replies. Independent of any transport: `SpopClient` sends through a
 * callback and is fed received bytes, so the same code drives an in-memory transport or a socket.
 * @module
 */
import { type DecodedFrame, decodeFrame } from "../../src/spop/codec.ts";
import { type HaproxyHello, writeDisconnect, writeHaproxyHello, writeNotify } from "../../src/spop/frame.ts";
import { type Message, FrameFlag, FrameType } from "../../src/spop/types.ts";
import { Writer } from "../../src/spop/writer.ts";

/** Stream-id and frame-id of a NOTIFY; bigints for ids ≥ 2^53. */
export interface NotifyIds {
  readonly streamId: number | bigint;
  readonly frameId: number | bigint;
}

/** The HELLO a 3.1+ HAProxy sends at runtime (vector V1 content). */
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

/** One decoded agent frame plus its exact bytes (length prefix included). */
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

/** A HAProxy-side session: sends frames via `send`, collects replies fed to `receive`. */
export class SpopClient {
  /** Every reply received so far, in order. */
  readonly replies: AgentReply[] = [];
  readonly #send: (bytes: Uint8Array) => void;
  readonly #parser = new ReplyParser();
  #waiters: Array<{ count: number; resolve: () => void }> = [];

  constructor(send: (bytes: Uint8Array) => void) {
    this.#send = send;
  }

  /** Sends raw bytes (one or several frames, or a fragment of one). */
  sendRaw(bytes: Uint8Array): void {
    this.#send(bytes);
  }

  /** Sends a HAPROXY-HELLO. */
  hello(overrides: Partial<HaproxyHello> = {}): void {
    this.#send(helloFrame(overrides));
  }

  /** Sends a NOTIFY. */
  notify(ids: NotifyIds, messages: readonly Message[]): void {
    this.#send(notifyFrame(ids, messages));
  }

  /** Sends a HAPROXY-DISCONNECT. */
  disconnect(status = 0, message?: string): void {
    this.#send(disconnectFrame(status, message));
  }

  /** Feed bytes received from the agent. */
  receive(bytes: Uint8Array): void {
    this.replies.push(...this.#parser.push(bytes));
    this.#waiters = this.#waiters.filter((w) => {
      if (this.replies.length < w.count) return true;
      w.resolve();
      return false;
    });
  }

  /** Resolves once `count` replies in total have arrived. */
  waitForReplies(count: number): Promise<AgentReply[]> {
    if (this.replies.length >= count) return Promise.resolve(this.replies);
    return new Promise((resolve) => {
      this.#waiters.push({ count, resolve: () => resolve(this.replies) });
    });
  }

  /** The ACK replies received so far. */
  acks(): Array<Extract<AgentReply, { type: "ack" }>> {
    return this.replies.filter((r): r is Extract<AgentReply, { type: "ack" }> => r.type === "ack");
  }
}
