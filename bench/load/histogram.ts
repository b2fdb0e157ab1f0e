/**
 * A log-linear latency histogram in the style of HdrHistogram: integer microseconds, values
 * below 256 µs exact, above that 128 sub-buckets per power of two (≤ 0.8 % relative error),
 * fixed memory (3,328 counters up to 2^32 µs ≈ 71 min) whatever the number of samples.
 * @module
 */

/** Values below 2^EXACT_BITS are counted exactly, one bucket each. */
const EXACT_BITS = 8;
/** Sub-buckets per power of two above that: 2^(EXACT_BITS − 1) = 128. */
const SUB_BITS = EXACT_BITS - 1;
const SUB_COUNT = 1 << SUB_BITS;
const EXACT = 1 << EXACT_BITS;
/** Largest recordable value; larger ones are clamped (and still raise `max`). */
export const HISTOGRAM_MAX_US = 2 ** 32 - 1;
const BUCKETS = EXACT + (32 - EXACT_BITS) * SUB_COUNT;

/** The bucket index of an integer value in [0, 2^32). */
export function bucketOf(value: number): number {
  if (value < EXACT) return value;
  const msb = 31 - Math.clz32(value);
  const shift = msb - SUB_BITS;
  return EXACT + (shift - 1) * SUB_COUNT + ((value >>> shift) - SUB_COUNT);
}

/** The highest value that lands in bucket `index` (what a percentile reports, like HDR). */
export function bucketHigh(index: number): number {
  if (index < EXACT) return index;
  const shift = Math.floor((index - EXACT) / SUB_COUNT) + 1;
  const mantissa = ((index - EXACT) % SUB_COUNT) + SUB_COUNT;
  return (mantissa + 1) * 2 ** shift - 1;
}

/** Percentiles and totals of a histogram, in microseconds. */
export interface LatencySummary {
  readonly count: number;
  readonly meanUs: number;
  readonly p50Us: number;
  readonly p90Us: number;
  readonly p99Us: number;
  readonly p999Us: number;
  readonly maxUs: number;
}

/** Latency histogram; record() costs a clz and an increment. */
export class Histogram {
  readonly #counts = new Float64Array(BUCKETS);
  #count = 0;
  #sum = 0;
  #max = 0;

  /** Number of recorded values. */
  get count(): number {
    return this.#count;
  }

  /** Records one value in µs; fractions are truncated, negatives read as 0. */
  record(valueUs: number): void {
    let v = valueUs > 0 ? Math.floor(valueUs) : 0;
    if (v > this.#max) this.#max = v;
    this.#sum += v;
    this.#count++;
    if (v > HISTOGRAM_MAX_US) v = HISTOGRAM_MAX_US;
    this.#counts[bucketOf(v)]++;
  }

  /** Adds every value of `other`. */
  merge(other: Histogram): void {
    const src = other.#counts;
    for (let i = 0; i < BUCKETS; i++) this.#counts[i] += src[i];
    this.#count += other.#count;
    this.#sum += other.#sum;
    if (other.#max > this.#max) this.#max = other.#max;
  }

  /** Forgets every value (used after the warm-up). */
  reset(): void {
    this.#counts.fill(0);
    this.#count = 0;
    this.#sum = 0;
    this.#max = 0;
  }

  /** The value at percentile `p` (0–100): the smallest bucket covering ⌈p% × count⌉ values; 0 when empty. */
  percentile(p: number): number {
    if (this.#count === 0) return 0;
    const rank = Math.max(1, Math.ceil((p / 100) * this.#count));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.#counts[i];
      if (seen >= rank) return Math.min(bucketHigh(i), this.#max);
    }
    return this.#max;
  }

  /** The usual percentiles. */
  summary(): LatencySummary {
    return {
      count: this.#count,
      meanUs: this.#count === 0 ? 0 : this.#sum / this.#count,
      p50Us: this.percentile(50),
      p90Us: this.percentile(90),
      p99Us: this.percentile(99),
      p999Us: this.percentile(99.9),
      maxUs: this.#max,
    };
  }
}
