/**
 * Byte ↔ string conversion for the hot path. Most SPOP strings are short ASCII, so they
 * skip TextDecoder; names (messages, args, KV keys) repeat on every frame, so a small
 * direct-mapped intern cache returns the same string without decoding it again.
 * @module
 */
import { invalidFrame } from "./errors.ts";

const decoder = new TextDecoder("utf-8", { fatal: true });
const encoder = new TextEncoder();

/** Above this length a native TextDecoder call beats a JS char loop. */
const SHORT_TEXT = 32;
/** Names longer than this are decoded but not interned (they are unlikely to repeat). */
const MAX_INTERN_LENGTH = 48;
const INTERN_SLOTS = 512; // power of two; bounded memory: ≤ 512 short strings

// Direct-mapped cache of ASCII names. Only ASCII strings are stored, so comparing a cached
// string's char codes with the received bytes is an exact byte comparison.
const internStrings: string[] = new Array(INTERN_SLOTS).fill("");

/** Decodes UTF-8 with the fatal decoder; bad UTF-8 is a protocol error (status 4). */
function decodeUtf8(buf: Uint8Array, start: number, end: number): string {
  try {
    return decoder.decode(buf.subarray(start, end));
  } catch (cause) {
    throw invalidFrame("string is not valid UTF-8", { cause });
  }
}

/** Decodes `buf[start, end)` as UTF-8, ASCII fast path for short strings. */
export function decodeText(buf: Uint8Array, start: number, end: number): string {
  if (end - start > SHORT_TEXT) return decodeUtf8(buf, start, end);
  let s = "";
  for (let i = start; i < end; i++) {
    const c = buf[i];
    if (c >= 0x80) return decodeUtf8(buf, start, end);
    s += String.fromCharCode(c);
  }
  return s;
}

/** Decodes a name (message, argument, KV key, variable) through the intern cache. */
export function decodeName(buf: Uint8Array, start: number, end: number): string {
  const len = end - start;
  if (len === 0) return "";
  if (len > MAX_INTERN_LENGTH) return decodeText(buf, start, end);
  // A cheap slot from length, first, middle and last byte; the full comparison below decides.
  const slot = (len * 7 + buf[start] * 31 + buf[start + (len >> 1)] * 3 + buf[end - 1] * 17) & (INTERN_SLOTS - 1);
  const known = internStrings[slot];
  if (known.length === len) {
    let i = 0;
    while (i < len && known.charCodeAt(i) === buf[start + i]) i++;
    if (i === len) return known;
  }
  const s = decodeText(buf, start, end);
  if (s.length === len) internStrings[slot] = s; // same length ⇔ every byte was ASCII
  return s;
}

/** Encodes a JS string to UTF-8 (the slow path; ASCII is written inline by the Writer). */
export function encodeUtf8(s: string): Uint8Array {
  return encoder.encode(s);
}
