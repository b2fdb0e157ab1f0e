/**
 * The soak benchmark's verdict: start, end, min and max of each sampled series, and its
 * least-squares slope per hour over the second half of the run (the first half holds warm-up:
 * JIT, the key table filling to its steady size), so "flat" means the slope is near zero.
 * @module
 */

/** One line of the soak output file. */
export interface SoakSample {
  readonly atS: number;
  readonly rssKiB: number;
  readonly cpuS: number;
  readonly heapBytes: number;
  readonly lagMs: number;
  readonly keys: number;
  readonly evictions: number;
  readonly decisions: number;
  readonly [count: string]: number;
}

/** Least-squares slope of (x seconds, y) scaled to y per hour; 0 with fewer than two points. */
export function slopePerHour(points: readonly (readonly [number, number])[]): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return den === 0 ? 0 : (num / den) * 3600;
}

/** Start/end/min/max and second-half slope of one series. */
export interface SeriesSummary {
  readonly start: number;
  readonly end: number;
  readonly min: number;
  readonly max: number;
  readonly slopePerHour: number;
}

function series(samples: readonly SoakSample[], pick: (s: SoakSample) => number): SeriesSummary {
  const values = samples.map(pick);
  const half = samples.slice(Math.floor(samples.length / 2));
  return {
    start: values[0] ?? 0,
    end: values.at(-1) ?? 0,
    min: Math.min(...values),
    max: Math.max(...values),
    slopePerHour: slopePerHour(half.map((s) => [s.atS, pick(s)] as const)),
  };
}

/** RSS and heap in MiB, lag in ms. */
export function summarise(samples: readonly SoakSample[]): { rssMiB: SeriesSummary; heapMiB: SeriesSummary; lagMs: SeriesSummary; keys: SeriesSummary } {
  return {
    rssMiB: series(samples, (s) => s.rssKiB / 1024),
    heapMiB: series(samples, (s) => s.heapBytes / 1_048_576),
    lagMs: series(samples, (s) => s.lagMs),
    keys: series(samples, (s) => s.keys),
  };
}
