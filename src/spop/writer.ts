/**
 * One growable output buffer; each frame is built contiguously in it (length reserved,
 * then back-patched) so a frame always leaves in a single socket write (spop-protocol.md §1).
 * @module
 */
import { encodeUtf8 } from "./text.ts";
import { DataTypeId, FrameFlag, type TypedData } from "./types.ts";
import { BOOL_TRUE_BYTE } from "./typed.ts";
import { MAX_VARINT_BYTES, writeVarint } from "./varint.ts";

const DEFAULT_CAPACITY = 4096;
/** A buffer grown past this is dropped on take()/reset() so one burst does not pin memory. */
const SHRINK_ABOVE = 1 << 20;
/** Bytes before the first id varint: length, type, flags (§1). */
const FRAME_HEADER_BYTES = 9;

/** Type ids of the integer kinds (§3). */
const TYPE_IDS = { int32: DataTypeId.INT32, uint32: DataTypeId.UINT32, int64: DataTypeId.INT64, uint64: DataTypeId.UINT64 } as const;

const NAME_CACHE_MAX = 256;
// Encoded STRING-BODY (length + bytes) of names we send again and again (variables, KV keys).
const nameCache = new Map<string, Uint8Array>();

/** The cached STRING-BODY encoding of a constant name. */
function encodedName(s: string): Uint8Array {
  let e = nameCache.get(s);
  if (e === undefined) {
    const b = encodeUtf8(s);
    e = new Uint8Array(b.length + MAX_VARINT_BYTES);
    const n = writeVarint(e, 0, b.length);
    e.set(b, n);
    e = e.slice(0, n + b.length);
    if (nameCache.size >= NAME_CACHE_MAX) nameCache.clear();
    nameCache.set(s, e);
  }
  return e;
}

/** A growable byte buffer with SPOP primitives and frame framing. */
export class Writer {
  #buf: Uint8Array;
  #pos = 0;
  readonly #initial: number;

  constructor(initialCapacity = DEFAULT_CAPACITY) {
    this.#initial = Math.max(16, initialCapacity);
    this.#buf = new Uint8Array(this.#initial);
  }

  /** Bytes written so far. */
  get length(): number {
    return this.#pos;
  }

  /** Makes room for `extra` more bytes, doubling the buffer as needed. */
  ensure(extra: number): void {
    const need = this.#pos + extra;
    if (need <= this.#buf.length) return;
    let cap = this.#buf.length * 2;
    while (cap < need) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.#buf.subarray(0, this.#pos));
    this.#buf = next;
  }

  /**
   * Makes room for `extra` bytes and returns the buffer to write them into from `length` on;
   * `commit(end)` then sets the length. Lets hot encoders (actions.ts) write without a call per byte.
   */
  room(extra: number): Uint8Array {
    if (this.#pos + extra > this.#buf.length) this.ensure(extra);
    return this.#buf;
  }

  /** Sets the length after direct writes into the buffer returned by room(). */
  commit(end: number): void {
    this.#pos = end;
  }

  /** One byte. */
  u8(v: number): void {
    if (this.#pos >= this.#buf.length) this.ensure(1);
    this.#buf[this.#pos++] = v;
  }

  /** A big-endian uint32. */
  u32(v: number): void {
    this.ensure(4);
    const b = this.#buf;
    const p = this.#pos;
    b[p] = v >>> 24;
    b[p + 1] = v >>> 16;
    b[p + 2] = v >>> 8;
    b[p + 3] = v;
    this.#pos = p + 4;
  }

  /** A varint (§2); negatives are written as 64-bit two's complement. */
  varint(v: number | bigint): void {
    this.ensure(MAX_VARINT_BYTES);
    this.#pos = writeVarint(this.#buf, this.#pos, v);
  }

  /** Raw bytes: all of `src`, or `src[start, end)`. */
  bytes(src: Uint8Array, start = 0, end: number = src.length): void {
    const n = end - start;
    this.ensure(n);
    const b = this.#buf;
    const p = this.#pos;
    if (n <= 16) {
      for (let i = 0; i < n; i++) b[p + i] = src[start + i];
    } else {
      b.set(start === 0 && end === src.length ? src : src.subarray(start, end), p);
    }
    this.#pos = p + n;
  }

  /** A STRING-BODY: varint length + UTF-8 bytes, with an inline ASCII fast path. */
  string(s: string): void {
    const n = s.length;
    if (n < 240) {
      this.ensure(n + 1);
      const b = this.#buf;
      const p = this.#pos;
      b[p] = n; // one-byte varint length, valid as long as every char is ASCII
      for (let i = 0; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) return this.#utf8(s);
        b[p + 1 + i] = c;
      }
      this.#pos = p + 1 + n;
      return;
    }
    this.#utf8(s);
  }

  /** A STRING-BODY for a name that repeats (variable names, KV keys): copied from a small cache. */
  name(s: string): void {
    this.bytes(encodedName(s));
  }

  #utf8(s: string): void {
    const b = encodeUtf8(s);
    this.varint(b.length);
    this.bytes(b);
  }

  /** A TYPED-DATA (§3): flag nibble 0 except BOOL (0x11 true / 0x01 false). */
  typed(d: TypedData): void {
    // An if-chain in frequency order: cheaper than a string switch on JSC's hot path.
    const kind = d.kind;
    if (kind === "bool") return this.u8(d.value ? BOOL_TRUE_BYTE : DataTypeId.BOOL);
    if (kind === "int32" || kind === "int64" || kind === "uint32" || kind === "uint64") {
      this.ensure(1 + MAX_VARINT_BYTES);
      this.#buf[this.#pos] = TYPE_IDS[kind];
      this.#pos = writeVarint(this.#buf, this.#pos + 1, d.value);
      return;
    }
    if (kind === "null") return this.u8(DataTypeId.NULL);
    if (kind === "string") {
      this.u8(DataTypeId.STRING);
      return this.string(d.value);
    }
    if (kind === "ipv4") {
      this.u8(DataTypeId.IPV4);
      return this.u32(d.value);
    }
    if (kind === "ipv6") {
      if (d.value.length !== 16) throw new RangeError(`Cannot encode ipv6: ${d.value.length} bytes instead of 16`);
      this.u8(DataTypeId.IPV6);
      return this.bytes(d.value);
    }
    if (kind === "binary") {
      this.u8(DataTypeId.BINARY);
      this.varint(d.value.length);
      return this.bytes(d.value);
    }
    throw new TypeError(`Cannot encode typed data of kind ${kind}`);
  }

  /** Starts a frame: reserves LENGTH, writes type and flags (default FIN); returns the mark for endFrame. */
  beginFrame(type: number, flags: number = FrameFlag.FIN): number {
    this.ensure(FRAME_HEADER_BYTES);
    const mark = this.#pos;
    const b = this.#buf;
    b[mark + 4] = type;
    b[mark + 5] = flags >>> 24;
    b[mark + 6] = flags >>> 16;
    b[mark + 7] = flags >>> 8;
    b[mark + 8] = flags;
    this.#pos = mark + FRAME_HEADER_BYTES;
    return mark;
  }

  /** Ends a frame: back-patches LENGTH = bytes written after the length field. */
  endFrame(mark: number): void {
    const len = this.#pos - mark - 4;
    const b = this.#buf;
    b[mark] = len >>> 24;
    b[mark + 1] = len >>> 16;
    b[mark + 2] = len >>> 8;
    b[mark + 3] = len;
  }

  /** The bytes written so far as a copy the caller owns; then empties the writer. */
  take(): Uint8Array {
    const out = this.#buf.slice(0, this.#pos);
    this.reset();
    return out;
  }

  /** Forgets everything written (keeps the buffer unless it grew very large). */
  reset(): void {
    this.#pos = 0;
    if (this.#buf.length > SHRINK_ABOVE && this.#buf.length > this.#initial) {
      this.#buf = new Uint8Array(this.#initial);
    }
  }
}
