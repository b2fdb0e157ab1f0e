/**
 * The in-memory table's string hash. Seeded per table so that keys an attacker builds (paths,
 * header values) cannot be precomputed to pile into one probe chain.
 * @module
 */

/** A seeded 32-bit hash of the UTF-16 code units of `key` (murmur-style mixing, fmix32 finish). */
export function hashKey(key: string, seed: number): number {
  const length = key.length;
  let h = seed ^ length;
  let i = 0;
  // Two code units per round: half the multiplies for the usual ~30-char key.
  for (; i + 1 < length; i += 2) {
    h = Math.imul(h ^ (key.charCodeAt(i) | (key.charCodeAt(i + 1) << 16)), 0x5bd1e995);
    h ^= h >>> 15;
  }
  if (i < length) {
    h = Math.imul(h ^ key.charCodeAt(i), 0x5bd1e995);
    h ^= h >>> 15;
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}

/** A random 32-bit seed; Math.random is enough: the seed only has to be unknown, not secret-grade. */
export function randomSeed(): number {
  return (Math.random() * 0x1_0000_0000) | 0;
}
