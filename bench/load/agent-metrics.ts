/**
 * Reads the agent's own decision counters from its /metrics: how many decisions it made and how
 * many of them the failure policy made instead of the store. Sampled at the edges of the measured
 * window, the difference says what share of that window's decisions were not the store's.
 * @module
 */
import { sumOf } from "../../tests/helpers/prometheus.ts";
import { parsePrometheus } from "../../tests/observe/prom-parser.ts";

/** Decision counters of one /metrics scrape. */
export interface DecisionCounts {
  /** spoa_decisions_total over every limit and result. */
  readonly decisions: number;
  /** spoa_degraded_decisions_total over every reason. */
  readonly degraded: number;
}

/** The decisions of a window and the share of them the failure policy made. */
export interface FailurePolicyShare {
  readonly decisions: number;
  readonly degraded: number;
  /** degraded / decisions (0 when there was no decision). */
  readonly share: number;
}

/** Sums every sample of `name` in a Prometheus text exposition (parsed by the tests' one strict parser). */
export function sumSamples(text: string, name: string): number {
  return sumOf(parsePrometheus(text), name);
}

/** Scrapes http://`address`/metrics (bounded to 2 s); undefined when the agent does not answer. */
export async function scrapeDecisionCounts(address: string): Promise<DecisionCounts | undefined> {
  try {
    const response = await fetch(`http://${address}/metrics`, { signal: AbortSignal.timeout(2_000) });
    if (!response.ok) return undefined;
    const text = await response.text();
    return { decisions: sumSamples(text, "spoa_decisions_total"), degraded: sumSamples(text, "spoa_degraded_decisions_total") };
  } catch {
    return undefined; // no metrics endpoint: the share is simply not reported
  }
}

/** The window's share, from the scrapes at its start and end. */
export function failurePolicyShare(start: DecisionCounts | undefined, end: DecisionCounts | undefined): FailurePolicyShare | undefined {
  if (start === undefined || end === undefined) return undefined;
  const decisions = end.decisions - start.decisions;
  const degraded = end.degraded - start.degraded;
  return { decisions, degraded, share: decisions > 0 ? degraded / decisions : 0 };
}

/** Cumulative counts of a Prometheus histogram: upper bound (seconds, Infinity for +Inf) → count. */
export function histogramBuckets(text: string, name: string): Map<number, number> {
  const buckets = new Map<number, number>();
  for (const sample of parsePrometheus(text).get(name)?.samples ?? []) {
    if (sample.name !== `${name}_bucket`) continue;
    const le = sample.labels.le === "+Inf" ? Infinity : Number(sample.labels.le);
    buckets.set(le, (buckets.get(le) ?? 0) + sample.value);
  }
  return buckets;
}

/** Share of the histogram's observations above `boundSeconds` (a bucket bound), or undefined when empty. */
export function shareAbove(buckets: ReadonlyMap<number, number>, boundSeconds: number): number | undefined {
  const total = buckets.get(Infinity) ?? 0;
  const below = buckets.get(boundSeconds);
  return total === 0 || below === undefined ? undefined : (total - below) / total;
}
