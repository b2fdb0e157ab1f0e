/**
 * The SPOP data model: frame types, flags, typed data, messages and actions.
 * Constants cite the section of shared/spop-protocol.md they come from.
 * @module
 */

/**
 * Frame type codes (spop-protocol.md §4).
 *
 * @example Tell a NOTIFY from an ACK by its type byte
 * ```ts
 * import { FrameType } from "@spoa-gcra/spoa-gcra";
 *
 * const typeByte = 3; // the byte after a frame's 4-byte length
 * console.assert(typeByte === FrameType.NOTIFY && FrameType.ACK === 103);
 * ```
 */
export const FrameType = {
  UNSET: 0,
  HAPROXY_HELLO: 1,
  HAPROXY_DISCONNECT: 2,
  NOTIFY: 3,
  AGENT_HELLO: 101,
  AGENT_DISCONNECT: 102,
  ACK: 103,
} as const;
/** One of the known frame type codes; unknown codes are plain numbers. */
export type FrameTypeCode = (typeof FrameType)[keyof typeof FrameType];

/** Frame flag bits (§1). Every frame we send carries exactly FIN. */
export const FrameFlag = { FIN: 0x1, ABORT: 0x2 } as const;

/**
 * Typed-data type ids, the low nibble of the type byte (§3).
 *
 * @example Read the type of an encoded value
 * ```ts
 * import { DataTypeId } from "@spoa-gcra/spoa-gcra";
 *
 * const typeByte = 0x08; // a string, no flags
 * console.assert((typeByte & 0x0f) === DataTypeId.STRING);
 * ```
 */
export const DataTypeId = {
  NULL: 0,
  BOOL: 1,
  INT32: 2,
  UINT32: 3,
  INT64: 4,
  UINT64: 5,
  IPV4: 6,
  IPV6: 7,
  STRING: 8,
  BINARY: 9,
} as const;

/**
 * A typed-data value (§3). Integers are `number` when they are safe integers and `bigint`
 * otherwise (only 64-bit kinds can exceed 2^53). IPv4 is a uint32 in host order
 * (192.0.2.10 → 0xc000020a) so it can key a map without allocating; IPv6 is 16 bytes.
 * Byte values decoded from a frame are views into the received chunk: copy them
 * (`slice()`) if they must outlive the handler call.
 *
 * @example Values of each family
 * ```ts
 * import type { TypedData } from "@spoa-gcra/spoa-gcra";
 *
 * const values: TypedData[] = [
 *   { kind: "int32", value: 80 },
 *   { kind: "string", value: "gold" },
 *   { kind: "ipv4", value: 0xc000020a }, // 192.0.2.10
 *   { kind: "uint64", value: 2n ** 60n },
 * ];
 * console.assert(values.every((v) => v.kind !== "null"));
 * ```
 */
export type TypedData =
  | { readonly kind: "null" }
  | { readonly kind: "bool"; readonly value: boolean }
  | { readonly kind: "int32"; readonly value: number }
  | { readonly kind: "uint32"; readonly value: number }
  | { readonly kind: "int64"; readonly value: number | bigint }
  | { readonly kind: "uint64"; readonly value: number | bigint }
  | { readonly kind: "ipv4"; readonly value: number }
  | { readonly kind: "ipv6"; readonly value: Uint8Array }
  | { readonly kind: "string"; readonly value: string }
  | { readonly kind: "binary"; readonly value: Uint8Array };

/**
 * The `kind` of a typed-data value.
 *
 * @example Dispatch on the kind
 * ```ts
 * import type { DataKind, TypedData } from "@spoa-gcra/spoa-gcra";
 *
 * const numeric: ReadonlySet<DataKind> = new Set(["int32", "uint32", "int64", "uint64"]);
 * const value: TypedData = { kind: "uint32", value: 7 };
 * console.assert(numeric.has(value.kind));
 * ```
 */
export type DataKind = TypedData["kind"];

/**
 * A named typed value: a NOTIFY message argument or a KV-list item (§4).
 *
 * @example An argument as the handler sees it
 * ```ts
 * import { dataText, type NamedData } from "@spoa-gcra/spoa-gcra";
 *
 * const arg: NamedData = { name: "method", kind: "string", value: "POST" };
 * console.assert(arg.name === "method" && dataText(arg) === "POST");
 * ```
 */
export type NamedData = TypedData & { readonly name: string };

/**
 * One SPOE message of a NOTIFY frame: its name and its arguments in declaration order (§4).
 *
 * @example What `spoe-message check-rate args ip_src=src path=path` arrives as
 * ```ts
 * import type { Message } from "@spoa-gcra/spoa-gcra";
 *
 * const message: Message = {
 *   name: "check-rate",
 *   args: [{ name: "ip_src", kind: "ipv4", value: 0xc000020a }, { name: "path", kind: "string", value: "/api" }],
 * };
 * console.assert(message.args.length === 2);
 * ```
 */
export interface Message {
  readonly name: string;
  readonly args: readonly NamedData[];
}

/**
 * Variable scopes of set-var/unset-var, with their wire byte (§4 "ACK details").
 *
 * @example List the scope names a handler may use
 * ```ts
 * import { VarScope } from "@spoa-gcra/spoa-gcra";
 *
 * console.assert(Object.keys(VarScope).join() === "proc,sess,txn,req,res");
 * ```
 */
export const VarScope = { proc: 0, sess: 1, txn: 2, req: 3, res: 4 } as const;
/**
 * A variable scope name: `proc`, `sess`, `txn`, `req` or `res`.
 *
 * @example Choose the scope by lifetime
 * ```ts
 * import { setVar, type VarScopeName } from "@spoa-gcra/spoa-gcra";
 *
 * const perConnection: VarScopeName = "sess"; // lives as long as the client connection
 * const perRequest: VarScopeName = "txn"; // one HTTP request
 * console.assert(setVar(perConnection, "ip_score", 0).scope === "sess" && perRequest === "txn");
 * ```
 */
export type VarScopeName = keyof typeof VarScope;

/** ACK action type ids (§4). */
export const ActionTypeId = { SET_VAR: 1, UNSET_VAR: 2 } as const;

/**
 * An ACK action (§4): set or unset `<scope>.<var-prefix>.<name>` in HAProxy.
 *
 * @example Written out, and with the builders
 * ```ts
 * import { type Action, setVar, unsetVar } from "@spoa-gcra/spoa-gcra";
 *
 * const actions: Action[] = [
 *   { type: "set-var", scope: "sess", name: "ip_score", value: { kind: "int32", value: 90 } },
 *   { type: "unset-var", scope: "txn", name: "tier" },
 * ];
 * console.assert(JSON.stringify(actions) === JSON.stringify([setVar("sess", "ip_score", 90), unsetVar("txn", "tier")]));
 * ```
 */
export type Action =
  | {
    readonly type: "set-var";
    readonly scope: VarScopeName;
    readonly name: string;
    readonly value: TypedData;
  }
  | { readonly type: "unset-var"; readonly scope: VarScopeName; readonly name: string };

/**
 * DISCONNECT status codes (§6); HAProxy's texts for them are in {@link DISCONNECT_MESSAGES}.
 *
 * @example Recognise a normal goodbye
 * ```ts
 * import { decodeFrame, DisconnectStatus, encodeFrame } from "@spoa-gcra/spoa-gcra";
 *
 * const bytes = encodeFrame({ type: "haproxy-disconnect", status: 0, message: "normal" });
 * const frame = decodeFrame(bytes);
 * console.assert(frame.type === "haproxy-disconnect" && frame.status === DisconnectStatus.NORMAL);
 * ```
 */
export const DisconnectStatus = {
  NORMAL: 0,
  IO_ERROR: 1,
  TIMEOUT: 2,
  TOO_BIG: 3,
  INVALID: 4,
  NO_VERSION: 5,
  NO_MAX_FRAME_SIZE: 6,
  NO_CAPABILITIES: 7,
  BAD_VERSION: 8,
  BAD_FRAME_SIZE: 9,
  FRAGMENTATION_NOT_SUPPORTED: 10,
  INTERLACED_FRAMES: 11,
  FRAME_ID_NOT_FOUND: 12,
  RESOURCE_ALLOCATION: 13,
  UNKNOWN: 99,
} as const;
/**
 * A DISCONNECT status code.
 *
 * @example Explain a status
 * ```ts
 * import { DISCONNECT_MESSAGES, type DisconnectStatusCode } from "@spoa-gcra/spoa-gcra";
 *
 * const status: DisconnectStatusCode = 2;
 * console.assert(DISCONNECT_MESSAGES[status] === "a timeout occurred");
 * ```
 */
export type DisconnectStatusCode = (typeof DisconnectStatus)[keyof typeof DisconnectStatus];

/**
 * HAProxy's `spop_err_reasons[]` texts, indexed by status code (§6).
 *
 * @example Log a status the way HAProxy does
 * ```ts
 * import { DISCONNECT_MESSAGES, DisconnectStatus } from "@spoa-gcra/spoa-gcra";
 *
 * console.assert(DISCONNECT_MESSAGES[DisconnectStatus.TOO_BIG] === "frame is too big");
 * ```
 */
export const DISCONNECT_MESSAGES: Readonly<Record<DisconnectStatusCode, string>> = {
  0: "normal",
  1: "I/O error",
  2: "a timeout occurred",
  3: "frame is too big",
  4: "invalid frame received",
  5: "version value not found",
  6: "max-frame-size value not found",
  7: "capabilities value not found",
  8: "unsupported version",
  9: "max-frame-size too big or too small",
  10: "fragmentation not supported",
  11: "invalid interlaced frames",
  12: "frame-id not found",
  13: "resource allocation error",
  99: "an unknown error occurred",
};

/**
 * A decoded frame header plus views of its id bytes and payload (§1).
 * `idBytes` are the raw STREAM-ID and FRAME-ID varints, so an ACK can echo them verbatim
 * whatever their size; `streamId`/`frameId` are their values (exact below 2^53).
 */
export interface Frame {
  readonly type: number;
  readonly flags: number;
  readonly streamId: number;
  readonly frameId: number;
  readonly idBytes: Uint8Array;
  readonly payload: Uint8Array;
}

/**
 * The SPOP version this engine speaks and announces in AGENT-HELLO (§5).
 *
 * @example Check HAProxy's offer
 * ```ts
 * import { SPOP_VERSION } from "@spoa-gcra/spoa-gcra";
 *
 * console.assert(["2.0"].includes(SPOP_VERSION));
 * ```
 */
export const SPOP_VERSION = "2.0";
/**
 * The smallest max-frame-size HAProxy accepts (§5); `Agent` refuses a smaller `maxFrameSize`.
 *
 * @example Bound a configured frame size
 * ```ts
 * import { DEFAULT_FRAME_SIZE, MIN_FRAME_SIZE } from "@spoa-gcra/spoa-gcra";
 *
 * const configured = 128;
 * console.assert(Math.max(MIN_FRAME_SIZE, configured) === 256 && DEFAULT_FRAME_SIZE > MIN_FRAME_SIZE);
 * ```
 */
export const MIN_FRAME_SIZE = 256;
/**
 * HAProxy's default max-frame-size, `tune.bufsize − 4` (§5), and `Agent`'s default.
 *
 * @example Give an agent room for bigger messages
 * ```ts
 * import { Agent, DEFAULT_FRAME_SIZE } from "@spoa-gcra/spoa-gcra";
 * import { timers } from "@spoa-gcra/spoa-gcra/bun";
 *
 * const agent = new Agent({ handler: { handle: () => [], failureActions: () => [] }, timers, maxFrameSize: 4 * DEFAULT_FRAME_SIZE });
 * console.assert(agent.connectionCount === 0);
 * ```
 */
export const DEFAULT_FRAME_SIZE = 16380;
/** A frame always has type + flags + two one-byte varints after its length (§1). */
export const MIN_FRAME_LENGTH = 7;
