/**
 * HAProxy's varint (spop-protocol.md §2) — NOT LEB128: values below 240 are one byte,
 * larger ones start with 0xF0|low-nibble and continue in biased 7-bit groups.
 * Numbers stay `number` up to 2^53 − 1; only larger values touch bigint.
 * @module
 */
import { invalidFrame } from "./errors.ts";

/** A read position over a byte range; `ByteReader` is one. */
export interface Cursor {
  buf: Uint8Array;
  pos: number;
  end: number;
}

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const MAX_SAFE_BIG = BigInt(Number.MAX_SAFE_INTEGER);
const TWO_64 = 1n << 64n;
const MIN_INT64 = -(1n << 63n);

/** The longest varint HAProxy can produce: 2^64 − 1 takes 10 bytes (§2). */
export const MAX_VARINT_BYTES = 10;

/** Maps any accepted input to its unsigned 64-bit pattern; negatives become two's complement. */
function toUint64(value: number | bigint): bigint {
  if (typeof value === "number") {
    if (!Number.isInteger(value)) throw new RangeError(`Cannot encode varint: ${value} is not an integer`);
    value = BigInt(value);
  }
  if (value < MIN_INT64 || value >= TWO_64) {
    throw new RangeError(`Cannot encode varint: ${value} is outside [-2^63, 2^64)`);
  }
  return BigInt.asUintN(64, value);
}

/** Whether `value` can take the number-only encoding path. */
function isSmall(value: number | bigint): value is number {
  return typeof value === "number" && value >= 0 && value <= MAX_SAFE && Number.isInteger(value);
}

/** Number of bytes `value` takes as a varint. */
export function varintSize(value: number | bigint): number {
  if (isSmall(value)) {
    if (value < 240) return 1;
    let v = Math.floor((value - 240) / 16);
    let n = 2;
    while (v >= 128) {
      v = Math.floor((v - 128) / 128);
      n++;
    }
    return n;
  }
  let v = toUint64(value);
  if (v < 240n) return 1;
  v = (v - 240n) >> 4n;
  let n = 2;
  while (v >= 128n) {
    v = (v - 128n) >> 7n;
    n++;
  }
  return n;
}

/** Writes `value` at `offset` and returns the offset after it; the caller ensured room (≤ 10 bytes). */
export function writeVarint(out: Uint8Array, offset: number, value: number | bigint): number {
  let o = offset;
  if (isSmall(value)) {
    if (value < 240) {
      out[o] = value;
      return o + 1;
    }
    // `& 0x0f` is exact up to 2^53: ToInt32 keeps the low 32 bits of an integral double.
    out[o++] = 0xf0 | (value & 0x0f);
    let v = Math.floor((value - 240) / 16);
    while (v >= 128) {
      out[o++] = 0x80 | (v & 0x7f);
      v = Math.floor((v - 128) / 128);
    }
    out[o++] = v;
    return o;
  }
  let v = toUint64(value);
  if (v < 240n) {
    out[o] = Number(v);
    return o + 1;
  }
  out[o++] = 0xf0 | Number(v & 0x0fn);
  v = (v - 240n) >> 4n;
  while (v >= 128n) {
    out[o++] = 0x80 | Number(v & 0x7fn);
    v = (v - 128n) >> 7n;
  }
  out[o++] = Number(v);
  return o;
}

/** Encodes `value` into a fresh array. */
export function encodeVarint(value: number | bigint): Uint8Array {
  const out = new Uint8Array(varintSize(value));
  writeVarint(out, 0, value);
  return out;
}

/** Reads a varint at `c.pos` (bounded by `c.end`) and advances; throws SpopError(4) on bad input. */
export function readVarint(c: Cursor): number | bigint {
  const buf = c.buf;
  const end = c.end;
  let p = c.pos;
  if (p >= end) throw invalidFrame("truncated varint");
  const b0 = buf[p++];
  if (b0 < 240) {
    c.pos = p;
    return b0;
  }
  // Up to 7 bytes the sum stays below 2^47, exact in a double.
  let value = b0;
  let mul = 16;
  for (let i = 1; i < 7; i++) {
    if (p >= end) throw invalidFrame("truncated varint");
    const b = buf[p++];
    value += b * mul;
    if (b < 128) {
      c.pos = p;
      return value;
    }
    mul *= 128;
  }
  return readVarintBig(c);
}

/** The bigint path for 8- to 10-byte varints. */
function readVarintBig(c: Cursor): number | bigint {
  const buf = c.buf;
  let p = c.pos;
  let v = BigInt(buf[p++]);
  let shift = 4n;
  for (let i = 1;; i++) {
    if (i >= MAX_VARINT_BYTES) throw invalidFrame("varint longer than 10 bytes");
    if (p >= c.end) throw invalidFrame("truncated varint");
    const b = buf[p++];
    v += BigInt(b) << shift;
    shift += 7n;
    if (b < 128) break;
  }
  if (v >= TWO_64) throw invalidFrame("varint exceeds 2^64 - 1");
  c.pos = p;
  return v <= MAX_SAFE_BIG ? Number(v) : v;
}

/** Decodes one varint from `bytes` at `offset`; `next` is the offset after it. */
export function decodeVarint(bytes: Uint8Array, offset = 0): { value: number | bigint; next: number } {
  const c: Cursor = { buf: bytes, pos: offset, end: bytes.length };
  const value = readVarint(c);
  return { value, next: c.pos };
}
