/**
 * Writes RESP commands (arrays of bulk strings) straight into bytes: what node-redis'
 * encodeCommand + write path did per script call, without the intermediate strings and queue.
 * One writer per batch; its bytes leave in one socket write.
 * @module
 */

const encoder = new TextEncoder();
const CRLF_1 = 13;
const CRLF_2 = 10;

/** A growable byte buffer with RESP helpers. */
export class RespWriter {
  #bytes: Uint8Array;
  #view: DataView;
  #length = 0;

  constructor(capacity = 1024) {
    this.#bytes = new Uint8Array(capacity);
    this.#view = new DataView(this.#bytes.buffer);
  }

  get length(): number {
    return this.#length;
  }

  #ensure(extra: number): void {
    const need = this.#length + extra;
    if (need <= this.#bytes.length) return;
    const grown = new Uint8Array(Math.max(need, this.#bytes.length * 2));
    grown.set(this.#bytes.subarray(0, this.#length));
    this.#bytes = grown;
    this.#view = new DataView(grown.buffer);
  }

  /** `*count\r\n`: the header of a command of `count` arguments. */
  array(count: number): this {
    return this.#prefixed(42, count);
  }

  #prefixed(type: number, n: number): this {
    this.#ensure(24);
    this.#bytes[this.#length++] = type;
    this.#decimal(n);
    this.#bytes[this.#length++] = CRLF_1;
    this.#bytes[this.#length++] = CRLF_2;
    return this;
  }

  #decimal(n: number): void {
    if (n < 10) {
      this.#bytes[this.#length++] = 48 + n;
      return;
    }
    const digits = String(n);
    for (let i = 0; i < digits.length; i++) this.#bytes[this.#length++] = digits.charCodeAt(i);
  }

  /** One bulk string argument; ASCII (every key the policies build, in practice) is copied byte by byte. */
  bulk(text: string): this {
    let ascii = true;
    for (let i = 0; i < text.length; i++) {
      if (text.charCodeAt(i) > 127) {
        ascii = false;
        break;
      }
    }
    if (!ascii) return this.bytes(encoder.encode(text));
    this.#prefixed(36, text.length);
    this.#ensure(text.length + 2);
    const b = this.#bytes;
    let o = this.#length;
    for (let i = 0; i < text.length; i++) b[o++] = text.charCodeAt(i);
    b[o++] = CRLF_1;
    b[o++] = CRLF_2;
    this.#length = o;
    return this;
  }

  /** One bulk string argument from bytes (binary-safe). */
  bytes(data: Uint8Array): this {
    this.#prefixed(36, data.length);
    this.#ensure(data.length + 2);
    this.#bytes.set(data, this.#length);
    this.#length += data.length;
    this.#bytes[this.#length++] = CRLF_1;
    this.#bytes[this.#length++] = CRLF_2;
    return this;
  }

  /** One bulk string argument holding a non-negative integer in decimal. */
  integer(n: number): this {
    return this.bulk(String(n));
  }

  /** Raw bytes already in RESP form (a pre-encoded command prefix). */
  raw(data: Uint8Array): this {
    this.#ensure(data.length);
    this.#bytes.set(data, this.#length);
    this.#length += data.length;
    return this;
  }

  /**
   * Starts a bulk string of exactly `length` bytes that the caller fills with `u8`/`f64`
   * (the packed per-check arguments); `end()` closes it.
   */
  beginBulk(length: number): this {
    this.#prefixed(36, length);
    this.#ensure(length + 2);
    return this;
  }

  u8(n: number): this {
    this.#bytes[this.#length++] = n;
    return this;
  }

  /** A little-endian IEEE double: Lua 5.1's number, so every integer below 2^53 is exact. */
  f64(n: number): this {
    this.#view.setFloat64(this.#length, n, true);
    this.#length += 8;
    return this;
  }

  end(): this {
    this.#ensure(2);
    this.#bytes[this.#length++] = CRLF_1;
    this.#bytes[this.#length++] = CRLF_2;
    return this;
  }

  /** The bytes written so far (a copy the caller owns; the writer may be reused). */
  take(): Uint8Array {
    const out = this.#bytes.slice(0, this.#length);
    this.#length = 0;
    return out;
  }
}

/** A whole command as bytes, for the handshake and rare calls. */
export function encodeCommand(args: readonly string[]): Uint8Array {
  const writer = new RespWriter(64);
  writer.array(args.length);
  for (const arg of args) writer.bulk(arg);
  return writer.take();
}
