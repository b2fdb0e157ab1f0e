// The space-saving sketch on known streams: the guarantees (true ≤ count ≤ true + error,
// error ≤ N / capacity, everything heavier than N / capacity kept), merging three agents'
// sketches, and memory that stays bounded with a million distinct identities.
import { describe, expect, test } from "bun:test";
import { mergeSummaries, SpaceSaving, type TopSummary } from "../../../src/ratelimit/top/space-saving.ts";

/** A deterministic Zipf(1.1) stream over `items` identities (LCG: no flaky randomness). */
function zipfStream(length: number, items: number, seed = 7): string[] {
  const weights = Array.from({ length: items }, (_, i) => 1 / (i + 1) ** 1.1);
  const cumulative: number[] = [];
  let sum = 0;
  for (const w of weights) cumulative.push((sum += w));
  let state = seed;
  const next = () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  return Array.from({ length }, () => {
    const x = next() * sum;
    let lo = 0;
    let hi = items - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    return `198.51.100.${lo % 256}/${lo}`;
  });
}

function truth(stream: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of stream) counts.set(item, (counts.get(item) ?? 0) + 1);
  return counts;
}

function expectGuarantees(summary: TopSummary, counts: Map<string, number>, total: number, capacityBound: number): void {
  for (const e of summary.entries) {
    const real = counts.get(e.item) ?? 0;
    expect(e.count).toBeGreaterThanOrEqual(real);
    expect(e.count - e.error).toBeLessThanOrEqual(real);
    expect(e.error).toBeLessThanOrEqual(capacityBound);
  }
  const kept = new Set(summary.entries.map((e) => e.item));
  for (const [item, real] of counts) if (real > total / summary.capacity) expect(kept.has(item)).toBe(true);
}

describe("SpaceSaving", () => {
  test("on a known Zipf stream of 200,000 over 10,000 identities, 64 counters keep every guarantee and the true top 10 in order", () => {
    const stream = zipfStream(200_000, 10_000);
    const counts = truth(stream);
    const sketch = new SpaceSaving(64);
    for (const item of stream) sketch.add(item);
    expect(sketch.size).toBe(64);
    expect(sketch.total).toBe(200_000);
    expectGuarantees(sketch.summary(), counts, 200_000, 200_000 / 64);
    const trueTop = [...counts].sort((a, b) => b[1] - a[1]).slice(0, 10).map(([item]) => item);
    expect(sketch.top(10).map((e) => e.item)).toEqual(trueTop);
  });

  test("weights count as much as that many single adds", () => {
    const weighted = new SpaceSaving(4);
    const single = new SpaceSaving(4);
    for (const [item, w] of [["a", 5], ["b", 2], ["a", 3], ["c", 1]] as const) {
      weighted.add(item, w);
      for (let i = 0; i < w; i++) single.add(item);
    }
    expect(weighted.top()).toEqual(single.top());
    expect(weighted.top(1)).toEqual([{ item: "a", count: 8, error: 0 }]);
  });

  test("three agents' sketches of disjoint streams merge with the guarantees of the union", () => {
    const stream = zipfStream(150_000, 5_000, 11);
    const agents = [new SpaceSaving(64), new SpaceSaving(64), new SpaceSaving(64)];
    stream.forEach((item, i) => agents[(i * 7 + (i >> 3)) % 3].add(item));
    const merged = mergeSummaries(agents.map((a) => a.summary()), 64);
    const counts = truth(stream);
    expect(merged.total).toBe(150_000);
    // Each input may add up to its N_i / capacity: the union's bound is N / capacity.
    expectGuarantees(merged, counts, 150_000, 150_000 / 64);
    const trueTop = [...counts].sort((a, b) => b[1] - a[1]).slice(0, 5).map(([item]) => item);
    expect(merged.entries.slice(0, 5).map((e) => e.item)).toEqual(trueTop);
  });

  test("a million distinct identities leave 64 counters and well under 64 KiB of heap", () => {
    const sketch = new SpaceSaving(64);
    Bun.gc(true);
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 1_000_000; i++) sketch.add(`2001:db8:${(i >>> 16).toString(16)}:${(i & 0xffff).toString(16)}::/64`);
    Bun.gc(true);
    const grown = process.memoryUsage().heapUsed - before;
    expect(sketch.size).toBe(64);
    console.log(`SpaceSaving(64) after 1,000,000 distinct identities: ${sketch.size} counters, heap +${(grown / 1024).toFixed(1)} KiB`);
    expect(grown).toBeLessThan(64 * 1024);
  });
});
