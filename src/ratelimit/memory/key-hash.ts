/**
 * The in-memory table's 64-bit key fingerprint. The table stores only the fingerprint, never
 * the key text, so two keys with the same 64 bits would share one GCRA state (see
 * tat-table.ts for the odds).
 *
 * A key `<head>{<tag>}<tail>` (keys.ts) is fingerprinted as its tag, hashed with the table's
 * seeds, mixed with a fixed-seed hash of the rest (head and tail). The rest is one of a few
 * per-limit constants, so the policy computes it once per limit (KeyShape in keys.ts) and a
 * request hashes only its identity (~12 chars instead of ~32) without ever joining the key.
 * A key without a non-empty `{…}` is hashed whole under a reserved rest value.
 *
 * Seeded per table, so that keys an attacker builds (addresses, paths, header values) cannot
 * be precomputed to pile into one probe chain. Not a cryptographic MAC: an attacker who learned
 * a seed could search for a colliding key, which merges two budgets, nothing more.
 * @module
 */

/** Seeds of the rest hash: fixed, so a limit's rest is computed once for every table. */
const REST_SEEDS = Int32Array.of(0x2f0a6b3d, 0x61c88647);
/** The rest of a key that has no hash tag (never produced by keys.ts). */
const NO_TAG_REST = Int32Array.of(0x7f4a7c15, 0x1b873593);

/**
 * Seeded 64-bit hash of the code units [start, end) of `text`: two murmur-style lanes
 * (different multipliers and shifts) over two code units a round, crossed and finished with
 * fmix32, so each output word depends on all 64 bits of the lanes' state. Written to `out`.
 */
function hashRange(text: string, start: number, end: number, seeds: Int32Array, out: Int32Array): void {
  let a = seeds[0] ^ (end - start);
  let b = seeds[1] ^ Math.imul(end - start, 0x9e3779b1);
  let i = start;
  for (; i + 1 < end; i += 2) {
    const k = text.charCodeAt(i) | (text.charCodeAt(i + 1) << 16);
    a = Math.imul(a ^ k, 0x5bd1e995);
    a ^= a >>> 15;
    b = Math.imul(b ^ k, 0xcc9e2d51);
    b ^= b >>> 13;
  }
  if (i < end) {
    const k = text.charCodeAt(i);
    a = Math.imul(a ^ k, 0x5bd1e995);
    a ^= a >>> 15;
    b = Math.imul(b ^ k, 0xcc9e2d51);
    b ^= b >>> 13;
  }
  out[0] = fmix32(a ^ Math.imul(b, 0x1b873593));
  out[1] = fmix32((b + a) | 0);
}

/** The fixed-seed hash of a key's parts around its tag: `head` ends with `{`, `tail` starts with `}`. */
export function restHash(head: string, tail: string): Int32Array {
  const rest = new Int32Array(2);
  hashRest(head + tail, head.length, head.length, rest, new RestScratch());
  return rest;
}

/** The two halves hashRest computes before mixing them: owned by the caller, so a fingerprint allocates nothing. */
class RestScratch {
  readonly head = new Int32Array(2);
  readonly tail = new Int32Array(2);
}

/** restHash of a key's head [0, headEnd) and tail [tailStart, end), written to `out`. */
function hashRest(text: string, headEnd: number, tailStart: number, out: Int32Array, scratch: RestScratch): void {
  const { head, tail } = scratch;
  hashRange(text, 0, headEnd, REST_SEEDS, head);
  hashRange(text, tailStart, text.length, REST_SEEDS, tail);
  out[0] = fmix32(head[0] ^ Math.imul(tail[0], 0x85ebca6b));
  out[1] = fmix32(head[1] ^ Math.imul(tail[1], 0xc2b2ae35));
}

/** One table's seeded fingerprint function; the result of the last call is in `out` (no allocation). */
export class Fingerprinter {
  /** Lane A (also the table's index hash) at 0, lane B at 1. */
  readonly out = new Int32Array(2);
  readonly #seeds: Int32Array;
  readonly #rest = new Int32Array(2);
  readonly #restScratch = new RestScratch();

  /** `seed` fixes the seeds (tests); random otherwise. */
  constructor(seed?: number) {
    // Math.random is enough: the seed only has to be unknown, not secret-grade.
    const s = seed ?? (Math.random() * 0x1_0000_0000) | 0;
    this.#seeds = Int32Array.of(s, fmix32((s + 0x9e3779b9) | 0));
  }

  /** The key `<head>{tag}<tail>` whose restHash is `rest`; `tag` is the escaped, non-empty identity. */
  ofTag(tag: string, rest: Int32Array): void {
    hashRange(tag, 0, tag.length, this.#seeds, this.out);
    mixRest(rest, this.out);
  }

  /** A whole key text, its tag found the way Valkey Cluster finds it; equals ofTag for keys built by keys.ts. */
  ofKey(key: string): void {
    const open = key.indexOf("{");
    const close = open < 0 ? -1 : key.indexOf("}", open + 1);
    if (close < 0 || close === open + 1) {
      hashRange(key, 0, key.length, this.#seeds, this.out);
      mixRest(NO_TAG_REST, this.out);
      return;
    }
    hashRest(key, open + 1, close, this.#rest, this.#restScratch);
    hashRange(key, open + 1, close, this.#seeds, this.out);
    mixRest(this.#rest, this.out);
  }
}

function mixRest(rest: Int32Array, out: Int32Array): void {
  // For a fixed rest each lane is a bijection of the tag hash's lane: two tags of one limit
  // collide only if their tag hashes do; different rests scramble differently.
  out[0] = fmix32(out[0] ^ rest[0]) ^ rest[1];
  out[1] = fmix32((out[1] + rest[1]) | 0) ^ rest[0];
}

/** MurmurHash3's finaliser (a bijection on 32 bits): every input bit affects every output bit. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}
