import { describe, expect, test } from "bun:test";
import { formatRate, gcraParams, parseRate, rateFromSeed } from "../../src/ratelimit/rate.ts";

describe("parseRate()", () => {
  test("reads count per unit with an optional multiplier", () => {
    expect(parseRate("100/s")).toEqual({ count: 100, periodSeconds: 1 });
    expect(parseRate("6000/m")).toEqual({ count: 6000, periodSeconds: 60 });
    expect(parseRate("10/1h")).toEqual({ count: 10, periodSeconds: 3600 });
    expect(parseRate("5/30s")).toEqual({ count: 5, periodSeconds: 30 });
    expect(parseRate("1/d")).toEqual({ count: 1, periodSeconds: 86400 });
  });

  test("rejects other forms", () => {
    for (const text of ["100 per s", "100/", "/s", "0/s", "10/0s", "1.5/s", "10/w", "100"]) expect(parseRate(text)).toBeUndefined();
  });
});

describe("gcraParams()", () => {
  test("derives T = round(period / count) and τ = T × (burst − 1)", () => {
    expect(gcraParams({ count: 100, periodSeconds: 1 }, 21)).toEqual({ emissionIntervalUs: 10_000, burstToleranceUs: 200_000 });
    expect(gcraParams({ count: 3, periodSeconds: 1 }, 1)).toEqual({ emissionIntervalUs: 333_333, burstToleranceUs: 0 });
  });

  test("never lets T fall below 1 µs", () => {
    expect(gcraParams({ count: 5_000_000, periodSeconds: 1 }, 2).emissionIntervalUs).toBe(1);
  });
});

describe("rateFromSeed()", () => {
  test("expresses the seed's T and τ as count per second and burst", () => {
    expect(rateFromSeed(10_000, 200_000)).toEqual({ count: 100, periodSeconds: 1, burst: 21 });
    expect(rateFromSeed(5_000_000, 0)).toEqual({ count: 1, periodSeconds: 5, burst: 1 });
  });
});

describe("formatRate()", () => {
  test("writes rates the way the config does", () => {
    expect(formatRate({ count: 10, periodSeconds: 3600 })).toBe("10/h");
    expect(formatRate({ count: 5, periodSeconds: 30 })).toBe("5/30s");
    expect(formatRate({ count: 5, periodSeconds: 120 })).toBe("5/2m");
  });
});
