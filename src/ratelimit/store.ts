/**
 * The limiter store contract: every store (memory, Valkey, the failure-policy wrapper)
 * answers all limit checks of one request at once.
 * @module
 */

/**
 * GCRA parameters of one limit, in microseconds (see gcra.ts for the math); `gcraParams`
 * derives them from a rate and a burst.
 *
 * @example 10 per second, 5 at once
 * ```ts
 * import { type GcraParams, gcraParams, parseRate } from "@spoa-gcra/spoa-gcra";
 *
 * const byHand: GcraParams = { emissionIntervalUs: 100_000, burstToleranceUs: 400_000 };
 * console.assert(JSON.stringify(byHand) === JSON.stringify(gcraParams(parseRate("10/s")!, 5)));
 * ```
 */
export interface GcraParams {
  /** T: the time one unit of cost occupies, `period / count`. */
  readonly emissionIntervalUs: number;
  /** τ: how far ahead of schedule a key may run. A fresh key admits `τ/T + 1` unit-cost requests at once. */
  readonly burstToleranceUs: number;
}

/**
 * One limit to check for one request.
 *
 * @example A costly request on a shadow limit
 * ```ts
 * import { type LimitCheck, MemoryStore } from "@spoa-gcra/spoa-gcra";
 *
 * const check: LimitCheck = { key: "rl:{192.0.2.1}:export", params: { emissionIntervalUs: 1_000_000, burstToleranceUs: 9_000_000 }, cost: 20, shadow: true };
 * const decision = new MemoryStore({ clock: { nowUs: () => 0 } }).check([check]);
 * console.assert(decision.allowed && !decision.results[0].allowed && decision.results[0].neverPasses); // reported, never enforced
 * ```
 */
export interface LimitCheck {
  /** The store key; keys of one identity share a `{hash tag}` (see keys.ts). */
  readonly key: string;
  readonly params: GcraParams;
  /** Units this request costs (a non-negative integer; 0 only reads the state). */
  readonly cost: number;
  /** A shadow limit is evaluated and reported but never denies and never blocks a commit. */
  readonly shadow: boolean;
}

/**
 * The outcome of one limit check. All times are microseconds relative to the decision's now.
 *
 * @example Retry-After from a denied check
 * ```ts
 * import { type LimitResult, MemoryStore } from "@spoa-gcra/spoa-gcra";
 *
 * const store = new MemoryStore({ clock: { nowUs: () => 0 } });
 * const check = { key: "k", params: { emissionIntervalUs: 2_000_000, burstToleranceUs: 0 }, cost: 1, shadow: false };
 * store.check([check]);
 * const result: LimitResult = store.check([check]).results[0];
 * console.assert(!result.allowed && Math.ceil(result.retryAfterUs / 1e6) === 2 && result.remaining === 0);
 * ```
 */
export interface LimitResult {
  readonly allowed: boolean;
  /** True when `cost × T > τ + T`: this request can never pass, whatever the wait. */
  readonly neverPasses: boolean;
  /** 0 when allowed; when denied, the wait until the same request would pass (0 if `neverPasses`). */
  readonly retryAfterUs: number;
  /** Unit-cost requests that would still pass right now (after this one, if it was committed). */
  readonly remaining: number;
  /** Time until the key is back to a full burst (TAT − now, after this request if committed). */
  readonly resetUs: number;
}

/**
 * The decision for one request.
 *
 * @example Which limit decided
 * ```ts
 * import { type Decision, MemoryStore } from "@spoa-gcra/spoa-gcra";
 *
 * const store = new MemoryStore({ clock: { nowUs: () => 0 } });
 * const strict = { key: "strict", params: { emissionIntervalUs: 1_000_000, burstToleranceUs: 0 }, cost: 1, shadow: false };
 * const loose = { key: "loose", params: { emissionIntervalUs: 1_000, burstToleranceUs: 100_000 }, cost: 1, shadow: false };
 * store.check([strict, loose]);
 * const decision: Decision = store.check([strict, loose]);
 * console.assert(!decision.allowed && decision.decidingIndex === 0 && !decision.degraded);
 * ```
 */
export interface Decision {
  /** False when any enforcing (non-shadow) limit denied. */
  readonly allowed: boolean;
  /**
   * Index into the checks of the limit that decided: the first enforcing limit that denied;
   * when allowed, the enforcing limit with the fewest `remaining` (ties: the first);
   * -1 when there were no enforcing checks.
   */
  readonly decidingIndex: number;
  /** One result per check, in the order of the checks. */
  readonly results: readonly LimitResult[];
  /** True when the failure policy decided instead of the configured store. */
  readonly degraded: boolean;
}

/**
 * A place that keeps GCRA state and decides atomically per request.
 *
 * @example Wrap a store to count its calls
 * ```ts
 * import { type LimiterStore, MemoryStore } from "@spoa-gcra/spoa-gcra";
 *
 * function counted(inner: LimiterStore): LimiterStore & { calls: number } {
 *   const store = { calls: 0, check: (checks: Parameters<LimiterStore["check"]>[0]) => (store.calls++, inner.check(checks)), close: () => inner.close() };
 *   return store;
 * }
 * const store = counted(new MemoryStore({ clock: { nowUs: () => 0 } }));
 * store.check([{ key: "k", params: { emissionIntervalUs: 1, burstToleranceUs: 0 }, cost: 1, shadow: false }]);
 * console.assert(store.calls === 1);
 * ```
 */
export interface LimiterStore {
  /**
   * Check every limit of one request; commit new TATs only if every enforcing limit allows
   * (then each allowing limit, shadow or not, is committed). Answers synchronously when it can.
   */
  check(checks: readonly LimitCheck[]): Decision | Promise<Decision>;
  /** Release connections and timers. */
  close(): Promise<void>;
}

export type { Clock } from "../agent/time.ts";
