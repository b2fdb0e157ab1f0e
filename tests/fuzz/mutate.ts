/**
 * Byte mutations for the fuzzer, in the AFL/libFuzzer style: bit flips, interesting values,
 * insertions, deletions, duplications, splices with another corpus entry, and SPOP-aware ones —
 * a rewritten 4-byte LENGTH, a varint boundary byte, a typed-data type byte — because the
 * reader's most interesting branches are behind a valid length prefix.
 * @module
 */
import type { Random } from "./fuzz-kit.ts";

/** Bytes that sit on boundaries of SPOP varints and typed data (spop-protocol.md §2, §3). */
const INTERESTING_BYTES = [0x00, 0x01, 0x07, 0x08, 0x09, 0x0a, 0x0f, 0x10, 0x11, 0x7f, 0x80, 0xef, 0xf0, 0xfe, 0xff];
/** LENGTH values around the limits: zero, below the 7-byte minimum, the default max, beyond it. */
const INTERESTING_LENGTHS = [0, 1, 6, 7, 8, 255, 256, 16_379, 16_380, 16_381, 65_535, 1 << 24, 0x7fffffff, 0xffffffff];

/** Random bytes of length `n`. */
export function randomBytes(random: Random, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = random(256);
  return out;
}

/** The parts joined into one new array. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** One mutation of `input` (never in place); `corpus` feeds splices. Result is at most `maxLength`. */
export function mutateOnce(random: Random, input: Uint8Array, corpus: readonly Uint8Array[], maxLength = 1 << 16): Uint8Array {
  const out = input.slice();
  const at = () => random(Math.max(1, out.length));
  let result: Uint8Array;
  switch (random(11)) {
    case 0: // flip one bit
      if (out.length > 0) out[at()] ^= 1 << random(8);
      result = out;
      break;
    case 1: // a random byte
      if (out.length > 0) out[at()] = random(256);
      result = out;
      break;
    case 2: // an interesting byte
      if (out.length > 0) out[at()] = INTERESTING_BYTES[random(INTERESTING_BYTES.length)];
      result = out;
      break;
    case 3: { // insert random bytes
      const i = random(out.length + 1);
      result = concat(out.subarray(0, i), randomBytes(random, 1 + random(16)), out.subarray(i));
      break;
    }
    case 4: { // delete a range
      const i = random(out.length + 1);
      result = concat(out.subarray(0, i), out.subarray(Math.min(out.length, i + 1 + random(16))));
      break;
    }
    case 5: { // duplicate a range
      const i = random(out.length + 1);
      const j = Math.min(out.length, i + 1 + random(32));
      result = concat(out.subarray(0, j), out.subarray(i, j), out.subarray(j));
      break;
    }
    case 6: // truncate
      result = out.subarray(0, random(out.length + 1));
      break;
    case 7: { // splice with another corpus entry
      const other = corpus[random(corpus.length)] ?? new Uint8Array(0);
      result = concat(out.subarray(0, random(out.length + 1)), other.subarray(random(other.length + 1)));
      break;
    }
    case 8: { // rewrite a 4-byte big-endian LENGTH (usually the frame's own, at offset 0)
      const i = random(4) === 0 ? random(Math.max(1, out.length - 3)) : 0;
      if (out.length >= i + 4) {
        const value = random(2) === 0 ? INTERESTING_LENGTHS[random(INTERESTING_LENGTHS.length)] : Math.max(0, out.length - 4 + random(9) - 4);
        new DataView(out.buffer, out.byteOffset).setUint32(i, value >>> 0);
      }
      result = out;
      break;
    }
    case 9: { // a varint continuation run (a long or unterminated varint)
      const i = random(out.length + 1);
      result = concat(out.subarray(0, i), new Uint8Array(1 + random(12)).fill(random(2) === 0 ? 0xff : 0x80 | random(128)), out.subarray(i));
      break;
    }
    default: // append a fresh frame prefix: more frames behind the first
      result = concat(out, new Uint8Array([0, 0, 0, random(64), random(2) === 0 ? 3 : random(256), 0, 0, 0, 1]));
  }
  return result.length > maxLength ? result.subarray(0, maxLength) : result;
}

/** Applies 1..`max` stacked mutations. */
export function mutate(random: Random, input: Uint8Array, corpus: readonly Uint8Array[], max = 6): Uint8Array {
  let out = input;
  const rounds = 1 + random(max);
  for (let i = 0; i < rounds; i++) out = mutateOnce(random, out, corpus);
  return out;
}

/** Splits `bytes` into 1..`maxChunks` chunks at random offsets (chunks own their bytes). */
export function randomChunks(random: Random, bytes: Uint8Array, maxChunks = 8): Uint8Array[] {
  const cuts = new Set<number>();
  const count = random(maxChunks);
  for (let i = 0; i < count; i++) cuts.add(random(bytes.length + 1));
  const sorted = [0, ...[...cuts].sort((a, b) => a - b), bytes.length];
  const chunks: Uint8Array[] = [];
  for (let i = 1; i < sorted.length; i++) if (sorted[i] > sorted[i - 1]) chunks.push(bytes.slice(sorted[i - 1], sorted[i]));
  return chunks;
}

/** Splits a byte stream at its LENGTH prefixes, as far as they are consistent. */
function splitFrames(bytes: Uint8Array): Uint8Array[] {
  const frames: Uint8Array[] = [];
  let at = 0;
  while (bytes.length - at >= 4) {
    const length = new DataView(bytes.buffer, bytes.byteOffset + at).getUint32(0);
    if (bytes.length - at - 4 < length) break;
    frames.push(bytes.subarray(at, at + 4 + length));
    at += 4 + length;
  }
  if (at < bytes.length) frames.push(bytes.subarray(at));
  return frames;
}

/**
 * Mutates the body of one frame of a stream and rewrites that frame's LENGTH to match, so the
 * damage reaches the decoders behind the reader instead of stopping at a wrong length.
 */
export function mutateFrameBody(random: Random, bytes: Uint8Array, corpus: readonly Uint8Array[]): Uint8Array {
  const frames = splitFrames(bytes);
  const i = random(frames.length);
  if (frames[i].length < 4) return mutate(random, bytes, corpus);
  const body = mutate(random, frames[i].subarray(4), corpus, 3);
  const frame = new Uint8Array(4 + body.length);
  new DataView(frame.buffer).setUint32(0, body.length);
  frame.set(body, 4);
  frames[i] = frame;
  return concat(...frames);
}

/** Mostly mutated corpus entries (half of them with consistent lengths), sometimes pure noise. */
export function spopInput(random: Random, corpus: readonly Uint8Array[]): Uint8Array {
  if (random(8) === 0) return randomBytes(random, random(64));
  const base = corpus[random(corpus.length)];
  if (random(10) === 0) return base.slice();
  return random(2) === 0 ? mutateFrameBody(random, base, corpus) : mutate(random, base, corpus);
}
