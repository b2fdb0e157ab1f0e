/**
 * Typed-data decoding (spop-protocol.md §3). Integers travel as the 64-bit two's-complement
 * pattern through the unsigned varint, so INT32/INT64 decode as signed 64-bit and
 * UINT32/UINT64 as unsigned; a number whenever the value is a safe integer.
 * @module
 */
import type { ByteReader } from "./byte-reader.ts";
import { invalidFrame } from "./errors.ts";
import type { DataKind, NamedData, TypedData } from "./types.ts";

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
// The value of the last readValue(): a module slot instead of a tuple keeps the hot path allocation-free.
let lastValue: Value;

/** Interprets an unsigned 64-bit varint value as signed 64-bit. */
function signed64(v: number | bigint): number | bigint {
  if (typeof v === "number") return v; // < 2^53, so the same value signed
  const s = BigInt.asIntN(64, v);
  return s >= -MAX_SAFE_BIG && s <= MAX_SAFE_BIG ? Number(s) : s;
}

/** Reads the body of a typed value whose type byte `t` was read; returns its kind and leaves the value in `lastValue`. */
function readValue(r: ByteReader, t: number): DataKind {
  const id = t & 0x0f;
  switch (id) {
    case 0:
      lastValue = undefined;
      break;
    case 1:
      lastValue = t === BOOL_TRUE_BYTE;
      break;
    case 2:
    case 3: {
      const v = id === 2 ? signed64(r.varint()) : r.varint();
      if (typeof v !== "number") throw invalidFrame(`${KINDS[id]} value ${v} is out of range`);
      lastValue = v;
      break;
    }
    case 4:
      lastValue = signed64(r.varint());
      break;
    case 5:
      lastValue = r.varint();
      break;
    case 6:
      lastValue = r.u32();
      break;
    case 7:
      lastValue = r.bytes(16);
      break;
    case 8:
      lastValue = r.text();
      break;
    case 9:
      lastValue = r.bytes(r.length());
      break;
    default:
      throw invalidFrame(`reserved typed-data type ${id}`);
  }
  return KINDS[id];
}

/** Reads one TYPED-DATA (type byte + body). */
export function readTyped(r: ByteReader): TypedData {
  const kind = readValue(r, r.u8());
  if (kind === "null") return NULL_DATA;
  if (kind === "bool") return lastValue === true ? TRUE_DATA : FALSE_DATA;
  return { kind, value: lastValue } as TypedData;
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
    case 0:
      return { name, kind: "null" };
    case 6:
      return { name, kind: "ipv4", value: r.u32() };
    case 7:
      return { name, kind: "ipv6", value: ipv6Copy(r) };
    case 8:
      return { name, kind: "string", value: r.text() };
    case 1:
      return { name, kind: "bool", value: t === BOOL_TRUE_BYTE };
    default: {
      const kind = readValue(r, t); // integers and binary: the general reader
      return { name, kind, value: lastValue } as NamedData;
    }
  }
}
