/**
 * The space-saving heavy-hitters sketch (Metwally, Agrawal, El Abbadi 2005) with weights:
 * at most `capacity` counters; an unseen item takes over the smallest counter and inherits its
 * count as its possible overestimate (`error`). For a stream of total weight N:
 *
 * - every estimate is an upper bound: `true ≤ count ≤ true + error`, and `error ≤ N / capacity`;
 * - every item whose true weight exceeds N / capacity is in the sketch.
 *
 * Counters live in an indexed binary min-heap, so a new item costs O(log capacity) and a seen
 * one O(log capacity) at worst — never a scan — whatever the number of distinct identities.
 * Summaries merge (Agarwal et al., "Mergeable summaries", 2012): counts add, and an item missing
 * from one summary is charged that summary's smallest count as extra error.
 * @module
 */

/** One tracked item. */
export interface TopEntry {
  readonly item: string;
  /** Estimated weight (an upper bound of the true weight). */
  readonly count: number;
  /** How much of `count` may not be the item's own (count − error ≤ true ≤ count). */
  readonly error: number;
}

/** A sketch as data: what an agent publishes and `merge` combines. */
export interface TopSummary {
  readonly capacity: number;
  /** Total weight seen (N). */
  readonly total: number;
  /** Entries, heaviest first. */
  readonly entries: readonly TopEntry[];
}

/** A counter in the heap; `at` is its heap position (kept on the object: no map write per swap). */
interface Counter {
  item: string;
  count: number;
  error: number;
  at: number;
}

/** A bounded sketch of the heaviest items of a stream. */
export class SpaceSaving {
  readonly capacity: number;
  #heap: Counter[] = [];
  readonly #index = new Map<string, Counter>();
  #total = 0;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
    this.capacity = capacity;
  }

  get size(): number {
    return this.#heap.length;
  }

  get total(): number {
    return this.#total;
  }

  /** Counts `weight` (> 0) for `item`. */
  add(item: string, weight = 1): void {
    if (!(weight > 0)) return;
    this.#total += weight;
    const seen = this.#index.get(item);
    if (seen !== undefined) {
      seen.count += weight;
      this.#down(seen.at);
      return;
    }
    const heap = this.#heap;
    if (heap.length < this.capacity) {
      const counter: Counter = { item, count: weight, error: 0, at: heap.length };
      heap.push(counter);
      this.#index.set(item, counter);
      this.#up(counter.at);
      return;
    }
    // Take over the smallest counter: the newcomer may have had up to that much before.
    const least = heap[0];
    this.#index.delete(least.item);
    least.item = item;
    least.error = least.count;
    least.count += weight;
    this.#index.set(item, least);
    this.#down(0);
  }

  /** The `n` heaviest entries (default all), heaviest first. */
  top(n = this.capacity): TopEntry[] {
    const entries = this.#heap.map(({ item, count, error }) => ({ item, count, error }));
    return entries.sort((a, b) => b.count - a.count || a.item.localeCompare(b.item)).slice(0, n);
  }

  summary(n = this.capacity): TopSummary {
    return { capacity: this.capacity, total: this.#total, entries: this.top(n) };
  }

  /** Forgets everything (a new window). */
  clear(): void {
    this.#heap = [];
    this.#index.clear();
    this.#total = 0;
  }

  #place(counter: Counter, at: number): void {
    this.#heap[at] = counter;
    counter.at = at;
  }

  #up(i: number): void {
    const heap = this.#heap;
    const moving = heap[i];
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent].count <= moving.count) break;
      this.#place(heap[parent], i);
      i = parent;
    }
    this.#place(moving, i);
  }

  #down(i: number): void {
    const heap = this.#heap;
    const n = heap.length;
    const moving = heap[i];
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const child = r < n && heap[r].count < heap[l].count ? r : l;
      if (heap[child].count >= moving.count) break;
      this.#place(heap[child], i);
      i = child;
    }
    this.#place(moving, i);
  }
}

/** The smallest count a full summary holds (0 when not full: an absent item was never seen). */
function floorOf(summary: TopSummary): number {
  if (summary.entries.length < summary.capacity) return 0;
  let least = Infinity;
  for (const e of summary.entries) least = Math.min(least, e.count);
  return least === Infinity ? 0 : least;
}

/**
 * Merges summaries of disjoint streams (one per agent) into one of `capacity` entries. The
 * guarantees hold for the union: true ≤ count ≤ true + error, error ≤ N / capacity per input.
 */
export function mergeSummaries(summaries: readonly TopSummary[], capacity: number): TopSummary {
  const merged = new Map<string, { count: number; error: number }>();
  const floors = summaries.map(floorOf);
  let floorSum = 0;
  for (const f of floors) floorSum += f;
  summaries.forEach((summary, s) => {
    for (const e of summary.entries) {
      let m = merged.get(e.item);
      // Charged every other summary's floor up front; its own floor is refunded below.
      if (m === undefined) merged.set(e.item, (m = { count: floorSum, error: floorSum }));
      m.count += e.count - floors[s];
      m.error += e.error - floors[s];
    }
  });
  const entries = [...merged].map(([item, m]) => ({ item, count: m.count, error: m.error }))
    .sort((a, b) => b.count - a.count || a.item.localeCompare(b.item))
    .slice(0, capacity);
  return { capacity, total: summaries.reduce((sum, s) => sum + s.total, 0), entries };
}
