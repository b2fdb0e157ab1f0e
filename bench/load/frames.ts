/**
 * The load generator's wire work, kept cheaper than the agent's: NOTIFY frames are written from
 * a pre-encoded template (only the ids and the address change), ACKs are scanned for the one
 * verdict variable without building objects. Control frames (HELLO, DISCONNECT) use the
 * project codec: they are rare.
 * @module
 */
import { writeDisconnect, writeHaproxyHello } from "../../src/spop/frame.ts";
import { writeVarint } from "../../src/spop/varint.ts";
import { Writer } from "../../src/spop/writer.ts";

/** Which HAProxy generation the generator imitates (spop-protocol.md §7, §8). */
export type HelloStyle = "2.6" | "3.1";

const TYPE_NOTIFY = 3;
const DATA_NULL = 0;
const DATA_IPV4 = 6;
const DATA_IPV6 = 7;
/** Room for LENGTH, type, flags and two varint ids of up to 10 bytes. */
const HEADER_ROOM = 4 + 1 + 4 + 20;

function encodeAscii(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

function stringBody(s: string): Uint8Array {
  const b = encodeAscii(s);
  if (b.length >= 240) throw new RangeError(`Name "${s}" is too long for the template`);
  const out = new Uint8Array(b.length + 1);
  out[0] = b.length;
  out.set(b, 1);
  return out;
}

/** A NOTIFY whose message is fixed except for the source address (the last argument). */
export interface NotifyTemplate {
  /** Largest frame the template writes, LENGTH prefix included. */
  readonly maxBytes: number;
  /** Writes one NOTIFY at `offset`; returns the offset after it. `address` is 4 or 16 bytes. */
  write(out: Uint8Array, offset: number, ids: { streamId: number; frameId: number }, address: Uint8Array): number;
}

/**
 * Builds the seed's NOTIFY: message `messageName` with `ip_fwd` (NULL), `ip_xff` (NULL) and
 * `ip_src` (IPV4 or IPV6, chosen by the address length), in that order.
 */
export function notifyTemplate(messageName: string): NotifyTemplate {
  const parts = [
    stringBody(messageName),
    Uint8Array.of(3),
    stringBody("ip_fwd"),
    Uint8Array.of(DATA_NULL),
    stringBody("ip_xff"),
    Uint8Array.of(DATA_NULL),
    stringBody("ip_src"),
  ];
  const prefix = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    prefix.set(p, o);
    o += p.length;
  }
  const maxBytes = HEADER_ROOM + prefix.length + 1 + 16;
  return {
    maxBytes,
    write(out, offset, ids, address) {
      let p = offset + 4;
      out[p++] = TYPE_NOTIFY;
      out[p++] = 0;
      out[p++] = 0;
      out[p++] = 0;
      out[p++] = 1; // FIN
      p = writeVarint(out, p, ids.streamId);
      p = writeVarint(out, p, ids.frameId);
      out.set(prefix, p);
      p += prefix.length;
      out[p++] = address.length === 4 ? DATA_IPV4 : DATA_IPV6;
      for (let i = 0; i < address.length; i++) out[p + i] = address[i];
      p += address.length;
      const len = p - offset - 4;
      out[offset] = len >>> 24;
      out[offset + 1] = len >>> 16;
      out[offset + 2] = len >>> 8;
      out[offset + 3] = len;
      return p;
    },
  };
}

/**
 * The client addresses of K keys. Key i is IPv6 for a deterministic `ipv6Share` of the keys
 * (2001:db8:<i>::1, a distinct /64 each, since the agent keys IPv6 by /64), else IPv4 10.0.0.0 + i.
 * Computed on demand: a million keys cost no memory.
 */
export class AddressPool {
  readonly size: number;
  readonly #v6Threshold: number;
  readonly #v4 = new Uint8Array(4);
  readonly #v6 = Uint8Array.of(0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1);

  constructor(options: { keys: number; ipv6Share: number }) {
    if (!Number.isInteger(options.keys) || options.keys < 1 || options.keys > 2 ** 24) {
      throw new RangeError(`keys must be an integer in [1, 16777216], got ${options.keys}`);
    }
    if (!(options.ipv6Share >= 0 && options.ipv6Share <= 1)) {
      throw new RangeError(`ipv6-share must be in [0, 1], got ${options.ipv6Share}`);
    }
    this.size = options.keys;
    this.#v6Threshold = Math.round(options.ipv6Share * 2 ** 32);
  }

  /** Whether key `i` is an IPv6 client. */
  isIpv6(i: number): boolean {
    // A multiplicative hash spreads the IPv6 keys over the index range.
    return Math.imul(i + 1, 0x9e3779b1) >>> 0 < this.#v6Threshold;
  }

  /** The address of key `i` in network order; the returned array is reused by the next call. */
  address(i: number): Uint8Array {
    if (this.isIpv6(i)) {
      const b = this.#v6;
      b[4] = i >>> 24;
      b[5] = i >>> 16;
      b[6] = i >>> 8;
      b[7] = i;
      return b;
    }
    const v = (0x0a000000 + i) >>> 0;
    const b = this.#v4;
    b[0] = v >>> 24;
    b[1] = v >>> 16;
    b[2] = v >>> 8;
    b[3] = v;
    return b;
  }
}

/** HAProxy's HELLO for the chosen generation (V1b for 2.6, V1 for 3.1). */
export function haproxyHello(style: HelloStyle, engineId: string): Uint8Array {
  const w = new Writer(256);
  writeHaproxyHello(w, {
    supportedVersions: ["2.0"],
    maxFrameSize: 16380,
    capabilities: style === "2.6" ? ["pipelining", "async"] : ["pipelining"],
    engineId,
  });
  return w.take();
}

/** HAPROXY-DISCONNECT status 0 "normal". */
export function haproxyDisconnect(): Uint8Array {
  const w = new Writer(64);
  writeDisconnect(w, 2, 0);
  return w.take();
}

/** Verdict read from an ACK. */
export const Verdict = { ALLOWED: 0, DENIED: 1, NONE: 2, MALFORMED: 3 } as const;
/** One of the Verdict codes. */
export type VerdictCode = (typeof Verdict)[keyof typeof Verdict];

// Module slot for the varint scanner, so scanning allocates nothing.
let varintValue = 0;

/** Reads a varint (values < 2^53) at `p`; returns the offset after it, or -1 if truncated. */
export function scanVarint(buf: Uint8Array, p: number, end: number): number {
  if (p >= end) return -1;
  let b = buf[p++];
  let value = b;
  if (b >= 240) {
    let mul = 16;
    do {
      if (p >= end) return -1;
      b = buf[p++];
      value += b * mul;
      mul *= 128;
    } while (b >= 128);
  }
  varintValue = value;
  return p;
}

/** The value of the last successful scanVarint(). */
export function lastVarint(): number {
  return varintValue;
}

/** Skips a TYPED-DATA at `p`, leaving an integer value in lastVarint(); returns -1 on bad input. */
function skipTyped(buf: Uint8Array, p: number, end: number): number {
  if (p >= end) return -1;
  const type = buf[p++] & 0x0f;
  switch (type) {
    case 0:
    case 1:
      varintValue = buf[p - 1] === 0x11 ? 1 : 0;
      return p;
    case 2:
    case 3:
    case 4:
    case 5:
      return scanVarint(buf, p, end);
    case 6:
      return p + 4 <= end ? p + 4 : -1;
    case 7:
      return p + 16 <= end ? p + 16 : -1;
    case 8:
    case 9: {
      const q = scanVarint(buf, p, end);
      return q < 0 || q + varintValue > end ? -1 : q + varintValue;
    }
    default:
      return -1;
  }
}

const IP_SCORE = encodeAscii("ip_score");
const ALLOWED = encodeAscii("allowed");

function nameIs(buf: Uint8Array, p: number, len: number, name: Uint8Array): boolean {
  if (len !== name.length) return false;
  for (let i = 0; i < len; i++) if (buf[p + i] !== name[i]) return false;
  return true;
}

/**
 * The verdict of an ACK payload `buf[start, end)`: `ip_score` (< 80 allowed, ≥ 80 denied, as the
 * seed's deny rule reads it) wins; else the bool `allowed`; NONE when neither is set.
 */
export function ackVerdict(buf: Uint8Array, start: number, end: number): VerdictCode {
  let p = start;
  let fromAllowed: VerdictCode = Verdict.NONE;
  while (p < end) {
    if (p + 2 > end) return Verdict.MALFORMED;
    const type = buf[p];
    p += 2; // action type, NB-ARGS
    p++; // scope
    p = scanVarint(buf, p, end);
    if (p < 0) return Verdict.MALFORMED;
    const nameStart = p;
    const nameLen = varintValue;
    p += nameLen;
    if (p > end) return Verdict.MALFORMED;
    if (type !== 1) continue; // unset-var: no value
    const valueType = buf[p] & 0x0f;
    p = skipTyped(buf, p, end);
    if (p < 0) return Verdict.MALFORMED;
    if (valueType >= 2 && valueType <= 5 && nameIs(buf, nameStart, nameLen, IP_SCORE)) {
      return varintValue >= 80 ? Verdict.DENIED : Verdict.ALLOWED;
    }
    if (valueType === 1 && nameIs(buf, nameStart, nameLen, ALLOWED)) {
      fromAllowed = varintValue === 1 ? Verdict.ALLOWED : Verdict.DENIED;
    }
  }
  return fromAllowed;
}
