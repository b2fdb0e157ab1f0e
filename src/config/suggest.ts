/**
 * "Did you mean" suggestions for misspelt keys, flags and enum values.
 * @module
 */

/** Lower-cased with `_` and `-` removed, so `key_prefix`, `key-prefix` and `keyPrefix` compare equal. */
function normalise(name: string): string {
  return name.toLowerCase().replace(/[_-]/g, "");
}

function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j] + 1, current[j - 1] + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length];
}

/** The closest candidate within a small edit distance, or undefined when nothing is close. */
export function closest(name: string, candidates: readonly string[]): string | undefined {
  const wanted = normalise(name);
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(wanted.length / 3)) + 1;
  for (const candidate of candidates) {
    const d = distance(wanted, normalise(candidate));
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}
