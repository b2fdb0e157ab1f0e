import { describe, expect, test } from "bun:test";
import { bucketHigh, bucketOf, Histogram, HISTOGRAM_MAX_US } from "../../bench/load/histogram.ts";

describe("Histogram", () => {
  test("values below 256 µs are counted exactly", () => {
    const h = new Histogram();
    for (let v = 0; v < 100; v++) h.record(v);
    expect(h.percentile(50)).toBe(49);
    expect(h.percentile(100)).toBe(99);
    expect(h.summary().count).toBe(100);
  });

  test("every bucket's range is contiguous and within 0.8 % of its low end", () => {
    let previousHigh = -1;
    for (let i = 0; i <= bucketOf(HISTOGRAM_MAX_US); i++) {
      const low = previousHigh + 1;
      const high = bucketHigh(i);
      expect(bucketOf(low)).toBe(i);
      expect(bucketOf(high)).toBe(i);
      expect((high - low) / Math.max(1, low)).toBeLessThan(1 / 128);
      previousHigh = high;
    }
    expect(previousHigh).toBe(HISTOGRAM_MAX_US);
  });

  test("percentiles of a uniform 1..100000 µs spread are within 1 % of the exact ones", () => {
    const h = new Histogram();
    for (let v = 1; v <= 100_000; v++) h.record(v);
    for (const [p, exact] of [[50, 50_000], [90, 90_000], [99, 99_000], [99.9, 99_900]] as const) {
      const got = h.percentile(p);
      expect(got).toBeGreaterThanOrEqual(exact);
      expect(got / exact).toBeLessThan(1.01);
    }
    expect(h.summary().maxUs).toBe(100_000);
    expect(h.summary().meanUs).toBeCloseTo(50_000.5, 3);
  });

  test("a percentile never exceeds the largest recorded value", () => {
    const h = new Histogram();
    h.record(1000);
    expect(h.percentile(99.9)).toBe(1000);
  });

  test("fractions are truncated, negatives read as 0 and huge values are clamped but kept as max", () => {
    const h = new Histogram();
    h.record(2.9);
    h.record(-5);
    h.record(2 ** 40);
    expect(h.percentile(1)).toBe(0);
    expect(h.percentile(50)).toBe(2);
    expect(h.summary().maxUs).toBe(2 ** 40);
  });

  test("merge adds counts and reset forgets everything", () => {
    const a = new Histogram();
    const b = new Histogram();
    a.record(10);
    b.record(20);
    b.record(30);
    a.merge(b);
    expect(a.summary()).toMatchObject({ count: 3, p50Us: 20, maxUs: 30 });
    a.reset();
    expect(a.summary()).toEqual({ count: 0, meanUs: 0, p50Us: 0, p90Us: 0, p99Us: 0, p999Us: 0, maxUs: 0 });
  });
});
