/**
 * Typed-data decoding (spop-protocol.md §3). Integers travel as the 64-bit two's-complement
 * pattern through the unsigned varint, so INT32/INT64 decode as signed 64-bit and
 * UINT32/UINT64 as unsigned; a number whenever the value is a safe integer.
 * @module
 */
import type { ByteReader } from "./byte-reader.ts";
import { invalidFrame } from "./errors.ts";
import { type DataKind, DataTypeId, type NamedData, type TypedData } from "./types.ts";

const MAX_SAFE_BIG = BigInt(Number.MAX_SAFE_INTEGER);

/** The shared NULL value: decoding it allocates nothing. */
export const NULL_DATA: TypedData = Object.freeze({ kind: "null" });
/** The shared BOOL true value. */
export const TRUE_DATA: TypedData = Object.freeze({ kind: "bool", value: true });
/** The shared BOOL false value. */
export const FALSE_DATA: TypedData = Object.freeze({ kind: "bool", value: false });

/** Type byte of BOOL true: flag nibble 0x1 on type 1 (§3). */
export const BOOL_TRUE_BYTE = 0x11;

const KINDS: readonly DataKind[] = [
  "null", "bool", "int32", "uint32", "int64", "uint64", "ipv4", "ipv6", "string", "binary",
];

type Value = boolean | number | bigint | string | Uint8Array | undefined;

/** Interprets an unsigned 64-bit varint value as signed 64-bit. */
function signed64(v: number | bigint): number | bigint {
  if (typeof v === "number") return v; // < 2^53, so the same value signed
  const s = BigInt.asIntN(64, v);
  return s >= -MAX_SAFE_BIG && s <= MAX_SAFE_BIG ? Number(s) : s;
}

// The case labels are DataTypeId's values written out: JSC compiles a switch over integer
// literals to a jump table, over property reads to a chain of compares.

/** Reads the body of a typed value whose type byte `t` was read (its kind is `KINDS[t & 0x0f]`). */
function readValue(r: ByteReader, t: number): Value {
  const id = t & 0x0f;
  switch (id) {
    case 0: // DataTypeId.NULL
      return undefined;
    case 1: // DataTypeId.BOOL
      return t === BOOL_TRUE_BYTE;
    case 2: // DataTypeId.INT32
    case 3: { // DataTypeId.UINT32
      const v = id === DataTypeId.INT32 ? signed64(r.varint()) : r.varint();
      if (typeof v !== "number") throw invalidFrame(`${KINDS[id]} value ${v} is out of range`);
      return v;
    }
    case 4: // DataTypeId.INT64
      return signed64(r.varint());
    case 5: // DataTypeId.UINT64
      return r.varint();
    case 6: // DataTypeId.IPV4
      return r.u32();
    case 7: // DataTypeId.IPV6
      return r.bytes(16);
    case 8: // DataTypeId.STRING
      return r.text();
    case 9: // DataTypeId.BINARY
      return r.bytes(r.length());
    default:
      throw invalidFrame(`reserved typed-data type ${id}`);
  }
}

/** Reads one TYPED-DATA (type byte + body). */
export function readTyped(r: ByteReader): TypedData {
  const t = r.u8();
  const value = readValue(r, t);
  const kind = KINDS[t & 0x0f];
  if (kind === "null") return NULL_DATA;
  if (kind === "bool") return value === true ? TRUE_DATA : FALSE_DATA;
  return { kind, value } as TypedData;
}

/** 16 address bytes as a copy: cheaper than a view in JSC, and a held copy does not pin the chunk. */
function ipv6Copy(r: ByteReader): Uint8Array {
  const src = r.bytes16Start();
  const b = r.buf;
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) out[i] = b[src + i];
  return out;
}

/**
 * Reads one TYPED-DATA and names it (a message argument). Each kind builds its object directly
 * (no shared value slot, no kind table): this runs for every argument of every NOTIFY.
 */
export function readNamed(r: ByteReader, name: string): NamedData {
  const t = r.u8();
  switch (t & 0x0f) {
    case 0: // DataTypeId.NULL
      return { name, kind: "null" };
    case 6: // DataTypeId.IPV4
      return { name, kind: "ipv4", value: r.u32() };
    case 7: // DataTypeId.IPV6
      return { name, kind: "ipv6", value: ipv6Copy(r) };
    case 8: // DataTypeId.STRING
      return { name, kind: "string", value: r.text() };
    case 1: // DataTypeId.BOOL
      return { name, kind: "bool", value: t === BOOL_TRUE_BYTE };
    default: {
      const value = readValue(r, t); // integers and binary: the general reader
      return { name, kind: KINDS[t & 0x0f], value } as NamedData;
    }
  }
}
