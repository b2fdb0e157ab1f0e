/**
 * Incremental RESP2 reply parser for the lean script path: integers, simple and bulk strings,
 * nil, errors and arrays, from chunks split anywhere. Only what script calls and the
 * connection handshake answer with; RESP3 push types never arrive (we never send HELLO 3).
 * @module
 */

/** An error reply (`-NOSCRIPT …`, `-MOVED 3999 127.0.0.1:7001`): Valkey answered, with a refusal. */
export class RespError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RespError";
  }
}

/** One parsed reply. */
export type RespValue = number | string | null | RespError | readonly RespValue[];

const CR = 13;
const decoder = new TextDecoder();
/** Marks "the reply is not complete yet" without allocating. */
const INCOMPLETE = Symbol("incomplete");
type Parsed = RespValue | typeof INCOMPLETE;

/**
 * Feeds chunks, calls `onReply` once per complete reply, in order. Keeps the unparsed tail
 * (a reply split across chunks is parsed again from its start once more bytes arrive: replies
 * here are a few KiB at most, so re-scanning is cheaper than a resumable state machine).
 */
export class RespReader {
  #buffer: Uint8Array = new Uint8Array(0);
  #offset = 0;
  readonly #onReply: (reply: RespValue) => void;

  constructor(onReply: (reply: RespValue) => void) {
    this.#onReply = onReply;
  }

  push(chunk: Uint8Array): void {
    if (this.#offset < this.#buffer.length) {
      const rest = this.#buffer.subarray(this.#offset);
      const joined = new Uint8Array(rest.length + chunk.length);
      joined.set(rest);
      joined.set(chunk, rest.length);
      this.#buffer = joined;
    } else {
      this.#buffer = chunk;
    }
    this.#offset = 0;
    while (this.#offset < this.#buffer.length) {
      const start = this.#offset;
      const value = this.#value();
      if (value === INCOMPLETE) {
        this.#offset = start;
        return;
      }
      this.#onReply(value);
    }
  }

  /** Drops any partial reply (the connection it came from is gone). */
  reset(): void {
    this.#buffer = new Uint8Array(0);
    this.#offset = 0;
  }

  /** The line after the type byte, as an integer (RESP lengths and integers are ASCII decimals). */
  #int(): number | typeof INCOMPLETE {
    const b = this.#buffer;
    let i = this.#offset;
    let negative = false;
    if (b[i] === 45) {
      negative = true;
      i++;
    }
    let n = 0;
    while (i < b.length && b[i] !== CR) n = n * 10 + (b[i++] - 48);
    if (i + 1 >= b.length) return INCOMPLETE;
    this.#offset = i + 2;
    return negative ? -n : n;
  }

  #line(): string | typeof INCOMPLETE {
    const b = this.#buffer;
    const end = b.indexOf(CR, this.#offset);
    if (end < 0 || end + 1 >= b.length) return INCOMPLETE;
    const text = decoder.decode(b.subarray(this.#offset, end));
    this.#offset = end + 2;
    return text;
  }

  #value(): Parsed {
    const b = this.#buffer;
    const type = b[this.#offset++];
    switch (type) {
      case 58: // ':' integer
        return this.#int();
      case 43: // '+' simple string
        return this.#line();
      case 45: { // '-' error
        const line = this.#line();
        return line === INCOMPLETE ? line : new RespError(line);
      }
      case 36: { // '$' bulk string
        const length = this.#int();
        if (length === INCOMPLETE) return length;
        if (length < 0) return null;
        if (this.#offset + length + 2 > b.length) return INCOMPLETE;
        const text = decoder.decode(b.subarray(this.#offset, this.#offset + length));
        this.#offset += length + 2;
        return text;
      }
      case 42: { // '*' array
        const length = this.#int();
        if (length === INCOMPLETE) return length;
        if (length < 0) return null;
        const items: RespValue[] = new Array(length);
        for (let i = 0; i < length; i++) {
          if (this.#offset >= b.length) return INCOMPLETE;
          const item = this.#value();
          if (item === INCOMPLETE) return item;
          items[i] = item;
        }
        return items;
      }
      default:
        if (type === undefined) return INCOMPLETE;
        // Not RESP2: the stream cannot be trusted any further.
        throw new RespError(`Cannot parse reply: unexpected type byte ${type}`);
    }
  }
}
