import { describe, expect, test } from "bun:test";
import { ceilSeconds, policyField, policyItem, rateLimitField, rateLimitPrefix } from "../../../src/ratelimit/answer/ratelimit-headers.ts";
import type { LimitDefinition } from "../../../src/ratelimit/policy/types.ts";

const base: LimitDefinition = {
  name: "default",
  messages: ["check-rate"],
  match: [],
  key: [{ kind: "identity" }],
  count: 100,
  periodSeconds: 60,
  burst: 10,
  params: { emissionIntervalUs: 600_000, burstToleranceUs: 5_400_000 },
  cost: { kind: "constant", value: 1 },
  shadow: false,
};

describe("RateLimit header values", () => {
  test("policyItem writes name, quota and window", () => {
    expect(policyItem(base)).toBe('"default";q=100;w=60');
  });

  test("policyItem rounds a fractional window up to at least 1 s", () => {
    expect(policyItem({ ...base, periodSeconds: 2.5 })).toBe('"default";q=100;w=3');
    expect(policyItem({ ...base, periodSeconds: 0.1 })).toBe('"default";q=100;w=1');
  });

  test("policyItem escapes a quote or backslash in the name as an sf-string", () => {
    expect(policyItem({ ...base, name: 'a"b\\c' })).toBe('"a\\"b\\\\c";q=100;w=60');
  });

  test("policyField joins items with a comma and a space", () => {
    expect(policyField(['"a";q=1;w=1'])).toBe('"a";q=1;w=1');
    expect(policyField(['"a";q=1;w=1', '"b";q=2;w=60'])).toBe('"a";q=1;w=1, "b";q=2;w=60');
  });

  test("rateLimitField writes remaining and the reset rounded up", () => {
    expect(rateLimitField("default", 20, 10_000)).toBe('"default";r=20;t=1');
    expect(rateLimitField("default", 0, 2_000_000)).toBe('"default";r=0;t=2');
    expect(rateLimitField("default", 3, 2_000_001)).toBe('"default";r=3;t=3');
    expect(rateLimitField("default", 3, 0)).toBe('"default";r=3;t=0');
  });

  test("rateLimitPrefix is the start of rateLimitField, name escaped as an sf-string", () => {
    expect(rateLimitPrefix("default")).toBe('"default";r=');
    expect(rateLimitPrefix('a"b')).toBe('"a\\"b";r=');
    expect(rateLimitField('a"b', 3, 1).startsWith(rateLimitPrefix('a"b'))).toBe(true);
  });

  test("ceilSeconds rounds up and never goes negative", () => {
    expect(ceilSeconds(1)).toBe(1);
    expect(ceilSeconds(1_000_000)).toBe(1);
    expect(ceilSeconds(1_000_001)).toBe(2);
    expect(ceilSeconds(-5)).toBe(0);
  });
});
