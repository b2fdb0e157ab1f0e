/**
 * Whole-frame structured form, for tests and library users: one frame (with its 4-byte
 * length) ↔ a discriminated union. The engine uses FrameReader and the frame.ts writers instead.
 * @module
 */
import { decodeActions } from "./actions.ts";
import { invalidFrame } from "./errors.ts";
import {
  type AgentHello,
  decodeAgentHello,
  decodeDisconnect,
  decodeHaproxyHello,
  type HaproxyHello,
  writeAck,
  writeAgentHello,
  writeDisconnect,
  writeHaproxyHello,
  writeNotify,
  encodeIds,
} from "./frame.ts";
import { LENGTH_BYTES, readLength, viewFrame } from "./frame-view.ts";
import { decodeMessages } from "./messages.ts";
import { type Action, type Frame, FrameType, type Message } from "./types.ts";
import { type Cursor, readVarint } from "./varint.ts";
import { Writer } from "./writer.ts";

/**
 * A frame decoded into its structured form.
 *
 * @example Switch over the frame types
 * ```ts
 * import { type DecodedFrame, decodeFrame, encodeFrame } from "@spoa-gcra/spoa-gcra";
 *
 * function describe(frame: DecodedFrame): string {
 *   switch (frame.type) {
 *     case "notify": return `NOTIFY with ${frame.messages.length} message(s)`;
 *     case "ack": return `ACK with ${frame.actions.length} action(s)`;
 *     default: return frame.type;
 *   }
 * }
 * console.assert(describe(decodeFrame(encodeFrame({ type: "notify", streamId: 1, frameId: 1, messages: [] }))) === "NOTIFY with 0 message(s)");
 * ```
 */
export type DecodedFrame =
  | { type: "haproxy-hello"; hello: HaproxyHello }
  | { type: "agent-hello"; hello: AgentHello }
  | { type: "haproxy-disconnect" | "agent-disconnect"; status: number; message: string }
  | { type: "notify"; streamId: number | bigint; frameId: number | bigint; messages: Message[] }
  | { type: "ack"; streamId: number | bigint; frameId: number | bigint; actions: Action[] }
  | {
    type: "unknown";
    frameType: number;
    flags: number;
    streamId: number | bigint;
    frameId: number | bigint;
    payload: Uint8Array;
  };

/** The exact id values (Frame.streamId/frameId are numbers, lossy above 2^53). */
function exactIds(frame: Frame): { streamId: number | bigint; frameId: number | bigint } {
  const c: Cursor = { buf: frame.idBytes, pos: 0, end: frame.idBytes.length };
  const streamId = readVarint(c);
  return { streamId, frameId: readVarint(c) };
}

/**
 * Decodes exactly one whole frame, including its 4-byte length.
 *
 * @param bytes One frame as it travels on the wire.
 * @returns The frame in structured form; unknown frame types come back as `unknown`.
 * @throws {SpopError} With status 4 (invalid frame) on malformed input.
 *
 * @example Read an ACK's actions
 * ```ts
 * import { decodeFrame, encodeFrame, setVar } from "@spoa-gcra/spoa-gcra";
 *
 * const bytes = encodeFrame({ type: "ack", streamId: 7, frameId: 1, actions: [setVar("sess", "ip_score", 0)] });
 * const frame = decodeFrame(bytes);
 * console.assert(frame.type === "ack" && frame.streamId === 7 && frame.actions.length === 1);
 * ```
 */
export function decodeFrame(bytes: Uint8Array): DecodedFrame {
  if (bytes.length < LENGTH_BYTES) throw invalidFrame(`${bytes.length} bytes cannot hold a frame length`);
  const length = readLength(bytes, 0);
  if (bytes.length !== LENGTH_BYTES + length) {
    throw invalidFrame(`length ${length} does not match the ${bytes.length - LENGTH_BYTES} bytes given`);
  }
  const frame = viewFrame(bytes, 0, length);
  switch (frame.type) {
    case FrameType.HAPROXY_HELLO:
      return { type: "haproxy-hello", hello: decodeHaproxyHello(frame) };
    case FrameType.AGENT_HELLO:
      return { type: "agent-hello", hello: decodeAgentHello(frame) };
    case FrameType.HAPROXY_DISCONNECT:
    case FrameType.AGENT_DISCONNECT: {
      const d = decodeDisconnect(frame);
      const type = frame.type === FrameType.HAPROXY_DISCONNECT ? "haproxy-disconnect" : "agent-disconnect";
      return { type, status: d.status, message: d.message };
    }
    case FrameType.NOTIFY:
      return { type: "notify", ...exactIds(frame), messages: decodeMessages(frame.payload) };
    case FrameType.ACK:
      return { type: "ack", ...exactIds(frame), actions: decodeActions(frame.payload) };
    default:
      return {
        type: "unknown",
        frameType: frame.type,
        flags: frame.flags,
        ...exactIds(frame),
        payload: frame.payload,
      };
  }
}

/**
 * Encodes a structured frame into a fresh array (FIN set on every known type), e.g. to play
 * HAProxy's part in a test.
 *
 * @param frame The frame in structured form.
 * @returns The frame's bytes, 4-byte length first.
 *
 * @example A HAPROXY-HELLO as HAProxy 2.6+ sends it
 * ```ts
 * import { encodeFrame } from "@spoa-gcra/spoa-gcra";
 *
 * const hello = encodeFrame({ type: "haproxy-hello", hello: { supportedVersions: ["2.0"], maxFrameSize: 16380, capabilities: ["pipelining"] } });
 * console.assert(new DataView(hello.buffer).getUint32(0) === hello.length - 4 && hello[4] === 1);
 * ```
 */
export function encodeFrame(frame: DecodedFrame): Uint8Array {
  const w = new Writer(256);
  switch (frame.type) {
    case "haproxy-hello":
      writeHaproxyHello(w, frame.hello);
      break;
    case "agent-hello":
      writeAgentHello(w, frame.hello);
      break;
    case "haproxy-disconnect":
      writeDisconnect(w, FrameType.HAPROXY_DISCONNECT, frame.status, frame.message);
      break;
    case "agent-disconnect":
      writeDisconnect(w, FrameType.AGENT_DISCONNECT, frame.status, frame.message);
      break;
    case "notify":
      writeNotify(w, frame, frame.messages);
      break;
    case "ack":
      writeAck(w, { idBytes: encodeIds(frame.streamId, frame.frameId) }, frame.actions);
      break;
    case "unknown": {
      const mark = w.beginFrame(frame.frameType, frame.flags);
      w.varint(frame.streamId);
      w.varint(frame.frameId);
      w.bytes(frame.payload);
      w.endFrame(mark);
      break;
    }
  }
  return w.take();
}
