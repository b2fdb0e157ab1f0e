// The most events inside any window of a given length: how a rate limit's bound is checked
// against what was actually allowed (tests/ratelimit/valkey/hot-slices.test.ts, bench/valkey/hot-key.ts).

/** The most of `times` (sorted, any unit) inside any half-open window of length `w` (same unit). */
export function busiestWindow(times: readonly number[], w: number): number {
  let best = 0;
  for (let lo = 0, hi = 0; hi < times.length; hi++) {
    while (times[hi] - times[lo] >= w) lo++;
    best = Math.max(best, hi - lo + 1);
  }
  return best;
}
