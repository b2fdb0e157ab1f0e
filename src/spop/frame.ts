/**
 * Encoders and decoders of each frame type (spop-protocol.md §4–§6): HELLO and DISCONNECT
 * KV lists, NOTIFY and ACK. Encoders append one complete frame to a Writer.
 * @module
 */
import { writeActions } from "./actions.ts";
import { invalidFrame, SpopError } from "./errors.ts";
import { FrameView } from "./frame-view.ts";
import { decodeKvList } from "./kv.ts";
import { decodeMessagesIn, writeMessages } from "./messages.ts";
import { encodeUtf8 } from "./text.ts";
import { BOOL_TRUE_BYTE } from "./typed.ts";
import {
  type Action,
  DataTypeId,
  DISCONNECT_MESSAGES,
  DisconnectStatus,
  type DisconnectStatusCode,
  type Frame,
  FrameType,
  type Message,
  type TypedData,
} from "./types.ts";
import { varintSize, writeVarint } from "./varint.ts";
import type { Writer } from "./writer.ts";

/**
 * HAPROXY-HELLO content (§5).
 *
 * @example HAProxy's offer, including a health check
 * ```ts
 * import { decodeFrame, encodeFrame, type HaproxyHello } from "@spoa-gcra/spoa-gcra";
 *
 * const hello: HaproxyHello = { supportedVersions: ["2.0"], maxFrameSize: 16380, capabilities: ["pipelining"], healthcheck: true };
 * const frame = decodeFrame(encodeFrame({ type: "haproxy-hello", hello }));
 * console.assert(frame.type === "haproxy-hello" && frame.hello.healthcheck === true);
 * ```
 */
export interface HaproxyHello {
  supportedVersions: readonly string[];
  maxFrameSize: number;
  capabilities: readonly string[];
  engineId?: string;
  healthcheck?: boolean;
}
/**
 * AGENT-HELLO content (§5).
 *
 * @example What an agent answers
 * ```ts
 * import { type AgentHello, decodeFrame, encodeFrame } from "@spoa-gcra/spoa-gcra";
 *
 * const hello: AgentHello = { version: "2.0", maxFrameSize: 16380, capabilities: ["pipelining"] };
 * const frame = decodeFrame(encodeFrame({ type: "agent-hello", hello }));
 * console.assert(frame.type === "agent-hello" && frame.hello.version === "2.0");
 * ```
 */
export interface AgentHello {
  version: string;
  maxFrameSize: number;
  capabilities: readonly string[];
}
/** DISCONNECT content (§6). */
export interface DisconnectInfo {
  status: number;
  message: string;
}

/** HAProxy rejects DISCONNECT messages longer than this (§6). */
const MAX_MESSAGE_BYTES = 255;

/** Writes a HELLO/DISCONNECT frame start: type, FIN, stream-id 0, frame-id 0 (§4). */
function beginControl(w: Writer, type: number): number {
  const mark = w.beginFrame(type);
  w.varint(0); // STREAM-ID
  w.varint(0); // FRAME-ID
  return mark;
}

function kvString(w: Writer, key: string, value: string): void {
  w.name(key);
  w.u8(DataTypeId.STRING);
  w.string(value);
}

function kvUint32(w: Writer, key: string, value: number): void {
  w.name(key);
  w.u8(DataTypeId.UINT32);
  w.varint(value);
}

/** Writes a HAPROXY-HELLO in HAProxy's key order (V1/V1b/V2); engine-id and healthcheck only when set. */
export function writeHaproxyHello(w: Writer, hello: HaproxyHello): void {
  const mark = beginControl(w, FrameType.HAPROXY_HELLO);
  kvString(w, "supported-versions", hello.supportedVersions.join(","));
  kvUint32(w, "max-frame-size", hello.maxFrameSize);
  kvString(w, "capabilities", hello.capabilities.join(","));
  if (hello.engineId !== undefined) kvString(w, "engine-id", hello.engineId);
  if (hello.healthcheck === true) {
    w.name("healthcheck");
    w.u8(BOOL_TRUE_BYTE);
  }
  w.endFrame(mark);
}

/** Writes an AGENT-HELLO: version, max-frame-size (UINT32), capabilities (always present) — V3/V4b. */
export function writeAgentHello(w: Writer, hello: AgentHello): void {
  const mark = beginControl(w, FrameType.AGENT_HELLO);
  kvString(w, "version", hello.version);
  kvUint32(w, "max-frame-size", hello.maxFrameSize);
  kvString(w, "capabilities", hello.capabilities.join(","));
  w.endFrame(mark);
}

/** Cuts a message to HAProxy's 255-byte limit without splitting a character. */
function clampMessage(message: string): string {
  if (message.length <= MAX_MESSAGE_BYTES && encodeUtf8(message).length <= MAX_MESSAGE_BYTES) return message;
  let s = message.slice(0, MAX_MESSAGE_BYTES);
  while (encodeUtf8(s).length > MAX_MESSAGE_BYTES) s = s.slice(0, -1);
  return s;
}

/** Writes a DISCONNECT (2 or 102); the message defaults to HAProxy's text for the status (V12–V15). */
export function writeDisconnect(
  w: Writer,
  type: typeof FrameType.HAPROXY_DISCONNECT | typeof FrameType.AGENT_DISCONNECT,
  status: number,
  message?: string,
): void {
  const text = message ??
    DISCONNECT_MESSAGES[status as DisconnectStatusCode] ?? DISCONNECT_MESSAGES[DisconnectStatus.UNKNOWN];
  const mark = beginControl(w, type);
  kvUint32(w, "status-code", status);
  kvString(w, "message", clampMessage(text));
  w.endFrame(mark);
}

/** Writes a NOTIFY carrying `messages` with the given ids. */
export function writeNotify(
  w: Writer,
  ids: { streamId: number | bigint; frameId: number | bigint },
  messages: readonly Message[],
): void {
  const mark = w.beginFrame(FrameType.NOTIFY);
  w.varint(ids.streamId);
  w.varint(ids.frameId);
  writeMessages(w, messages);
  w.endFrame(mark);
}

/**
 * Writes an ACK echoing the raw id varints of the NOTIFY it answers. Only `notify.idBytes` is
 * read, so a held copy `{ idBytes }` will do; a FrameView still over its received chunk is
 * written straight from the chunk, without making the id copy.
 */
export function writeAck(w: Writer, notify: Pick<Frame, "idBytes">, actions: readonly Action[]): void {
  const mark = w.beginFrame(FrameType.ACK);
  if (notify instanceof FrameView) w.bytes(notify.bytes, notify.idStart, notify.payloadStart);
  else w.bytes(notify.idBytes);
  writeActions(w, actions);
  w.endFrame(mark);
}

/** Decodes the messages of a NOTIFY frame; same as `decodeMessages(frame.payload)`, without the view. */
export function decodeNotify(frame: Frame): Message[] {
  if (frame instanceof FrameView) return decodeMessagesIn(frame.bytes, frame.payloadStart, frame.end);
  const p = frame.payload;
  return decodeMessagesIn(p, 0, p.length);
}

/** Encodes a stream-id/frame-id pair as the two varints an ACK echoes. */
export function encodeIds(streamId: number | bigint, frameId: number | bigint): Uint8Array {
  const out = new Uint8Array(varintSize(streamId) + varintSize(frameId));
  writeVarint(out, writeVarint(out, 0, streamId), frameId);
  return out;
}

/** A required KV item, or the given status when it is missing. */
function required(items: Map<string, TypedData>, key: string, status: DisconnectStatusCode): TypedData {
  const v = items.get(key);
  if (v === undefined) throw new SpopError(status, `Cannot decode HELLO: ${key} value not found`);
  return v;
}

function asString(d: TypedData, key: string): string {
  if (d.kind !== "string") throw invalidFrame(`${key} is ${d.kind}, expected string`);
  return d.value;
}

/** Integer kinds 2–5 as a number (HAProxy accepts any of them, §6). */
function asInteger(d: TypedData, key: string): number {
  switch (d.kind) {
    case "int32":
    case "uint32":
    case "int64":
    case "uint64":
      return Number(d.value);
    default:
      throw invalidFrame(`${key} is ${d.kind}, expected an integer`);
  }
}

/** Splits a comma-separated list, trimming tokens and dropping empty ones. */
function splitList(s: string): string[] {
  const out: string[] = [];
  for (const token of s.split(",")) {
    const t = token.trim();
    if (t !== "") out.push(t);
  }
  return out;
}

/** Decodes a HAPROXY-HELLO payload; missing keys → 5/6/7, wrong types → 4. */
export function decodeHaproxyHello(frame: Frame): HaproxyHello {
  const items = decodeKvList(frame.payload);
  const versions = asString(required(items, "supported-versions", DisconnectStatus.NO_VERSION), "supported-versions");
  const maxFrameSize = asInteger(required(items, "max-frame-size", DisconnectStatus.NO_MAX_FRAME_SIZE), "max-frame-size");
  const capabilities = asString(required(items, "capabilities", DisconnectStatus.NO_CAPABILITIES), "capabilities");
  const hello: HaproxyHello = {
    supportedVersions: splitList(versions),
    maxFrameSize,
    capabilities: splitList(capabilities),
  };
  const engineId = items.get("engine-id");
  if (engineId !== undefined) hello.engineId = asString(engineId, "engine-id");
  const healthcheck = items.get("healthcheck");
  if (healthcheck !== undefined) {
    if (healthcheck.kind !== "bool") throw invalidFrame(`healthcheck is ${healthcheck.kind}, expected bool`);
    hello.healthcheck = healthcheck.value;
  }
  return hello;
}

/**
 * Decodes an AGENT-HELLO payload; a missing version → 5, wrong types → 4. Lenient like
 * HAProxy 3.1+ at runtime: a missing max-frame-size reads as 0 ("not sent", the peer keeps
 * its own) and missing capabilities as none, so a peer can still judge the version first.
 */
export function decodeAgentHello(frame: Frame): AgentHello {
  const items = decodeKvList(frame.payload);
  const size = items.get("max-frame-size");
  const capabilities = items.get("capabilities");
  return {
    version: asString(required(items, "version", DisconnectStatus.NO_VERSION), "version"),
    maxFrameSize: size === undefined ? 0 : asInteger(size, "max-frame-size"),
    capabilities: capabilities === undefined ? [] : splitList(asString(capabilities, "capabilities")),
  };
}

/** Decodes a DISCONNECT payload; status-code may be any integer type, a missing message reads as "". */
export function decodeDisconnect(frame: Frame): DisconnectInfo {
  const items = decodeKvList(frame.payload);
  const status = items.get("status-code");
  if (status === undefined) throw invalidFrame("DISCONNECT without status-code");
  const message = items.get("message");
  return {
    status: asInteger(status, "status-code"),
    message: message === undefined ? "" : asString(message, "message"),
  };
}
