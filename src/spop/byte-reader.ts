/**
 * A bounds-checked read cursor over one byte range (a frame payload). Every read checks
 * its bounds once and throws SpopError(4) when the payload is truncated.
 * Fields are public so the varint decoder can advance the cursor without a call.
 * @module
 */
import { invalidFrame } from "./errors.ts";
import { decodeName, decodeText } from "./text.ts";
import { type Cursor, readVarint } from "./varint.ts";

/** A read cursor over `buf[pos, end)`. */
export class ByteReader implements Cursor {
  buf: Uint8Array;
  pos: number;
  end: number;

  constructor(buf: Uint8Array, start = 0, end = buf.length) {
    this.buf = buf;
    this.pos = start;
    this.end = end;
  }

  /** Whether all bytes were consumed. */
  get done(): boolean {
    return this.pos >= this.end;
  }

  /** One unsigned byte. */
  u8(): number {
    if (this.pos >= this.end) throw invalidFrame("payload truncated");
    return this.buf[this.pos++];
  }

  /** A big-endian uint32. */
  u32(): number {
    const p = this.pos;
    if (p + 4 > this.end) throw invalidFrame("payload truncated");
    const b = this.buf;
    this.pos = p + 4;
    return ((b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]) >>> 0;
  }

  /** A varint (§2): number when ≤ 2^53 − 1, bigint otherwise. */
  varint(): number | bigint {
    return readVarint(this);
  }

  /** A varint length that must fit in the remaining bytes. */
  length(): number {
    const n = readVarint(this);
    if (typeof n !== "number" || n > this.end - this.pos) {
      throw invalidFrame(`length ${n} runs past the end of the payload`);
    }
    return n;
  }

  /** A STRING-BODY (varint length + UTF-8) read as a name, interned. */
  name(): string {
    // Names are short: a one-byte length skips the general varint reader.
    const p = this.pos;
    const n1 = p < this.end ? this.buf[p] : 240;
    if (n1 < 240 && p + 1 + n1 <= this.end) {
      this.pos = p + 1 + n1;
      return decodeName(this.buf, p + 1, p + 1 + n1);
    }
    const n = this.length();
    const start = this.pos;
    this.pos = start + n;
    return decodeName(this.buf, start, start + n);
  }

  /** A STRING-BODY read as free text (not interned). */
  text(): string {
    const n = this.length();
    const start = this.pos;
    this.pos = start + n;
    return decodeText(this.buf, start, start + n);
  }

  /** Skips 16 bytes and returns their offset in `buf` (IPv6 addresses are copied from there). */
  bytes16Start(): number {
    const start = this.pos;
    if (start + 16 > this.end) throw invalidFrame("payload truncated");
    this.pos = start + 16;
    return start;
  }

  /** `n` raw bytes as a view (no copy). */
  bytes(n: number): Uint8Array {
    const start = this.pos;
    if (start + n > this.end) throw invalidFrame("payload truncated");
    this.pos = start + n;
    return this.buf.subarray(start, start + n);
  }
}
