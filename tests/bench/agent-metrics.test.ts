// The exposition below is what an agent serves (HELP and TYPE before each family): the bench
// reads it with the tests' one strict parser.
import { describe, expect, test } from "bun:test";
import { failurePolicyShare, histogramBuckets, shareAbove, sumSamples } from "../../bench/load/agent-metrics.ts";

const TEXT = `# HELP spoa_decisions_total Rate-limit decisions by deciding limit and result.
# TYPE spoa_decisions_total counter
spoa_decisions_total{limit="default",result="allow"} 900
spoa_decisions_total{limit="default",result="deny"} 100
# HELP spoa_decisions_total_other A metric whose name starts with another's.
# TYPE spoa_decisions_total_other gauge
spoa_decisions_total_other 5
# HELP spoa_degraded_decisions_total Decisions the failure policy made.
# TYPE spoa_degraded_decisions_total counter
spoa_degraded_decisions_total{reason="timeout"} 3
spoa_degraded_decisions_total{reason="breaker-open"} 7
# HELP spoa_store_duration_seconds Store round trips.
# TYPE spoa_store_duration_seconds histogram
spoa_store_duration_seconds_bucket{le="0.01"} 90
spoa_store_duration_seconds_bucket{le="0.025"} 98
spoa_store_duration_seconds_bucket{le="+Inf"} 100
spoa_store_duration_seconds_sum 0.9
spoa_store_duration_seconds_count 100
`;

describe("agent metrics for the load generator", () => {
  test("sums every sample of a metric, and only of that metric", () => {
    expect(sumSamples(TEXT, "spoa_decisions_total")).toBe(1000);
    expect(sumSamples(TEXT, "spoa_degraded_decisions_total")).toBe(10);
    expect(sumSamples(TEXT, "spoa_missing")).toBe(0);
  });

  test("the failure policy's share of a window comes from the two scrapes at its edges", () => {
    expect(failurePolicyShare({ decisions: 1000, degraded: 10 }, { decisions: 3000, degraded: 30 })).toEqual({ decisions: 2000, degraded: 20, share: 0.01 });
    expect(failurePolicyShare(undefined, { decisions: 1, degraded: 0 })).toBeUndefined();
    expect(failurePolicyShare({ decisions: 5, degraded: 0 }, { decisions: 5, degraded: 0 })?.share).toBe(0);
  });

  test("the share of a histogram above a bucket bound", () => {
    const buckets = histogramBuckets(TEXT, "spoa_store_duration_seconds");
    expect(shareAbove(buckets, 0.01)).toBeCloseTo(0.1);
    expect(shareAbove(buckets, 0.025)).toBeCloseTo(0.02);
    expect(shareAbove(buckets, 0.05)).toBeUndefined(); // not a bound of this histogram
    expect(shareAbove(new Map(), 0.01)).toBeUndefined();
  });
});
