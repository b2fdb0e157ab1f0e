// A small deterministic PRNG (xorshift32) so a failing randomized sequence can be replayed.

/** Returns `next(n)`: a pseudo-random integer in [0, n), the same sequence for the same seed. */
export function rng(seed: number): (n: number) => number {
  let s = seed | 1;
  return (n: number) => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) % n;
  };
}
