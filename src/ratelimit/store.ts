/**
 * The limiter store contract: every store (memory, Valkey, the failure-policy wrapper)
 * answers all limit checks of one request at once.
 * @module
 */

/** GCRA parameters of one limit, in microseconds (see gcra.ts for the math). */
export interface GcraParams {
  /** T: the time one unit of cost occupies, `period / count`. */
  readonly emissionIntervalUs: number;
  /** τ: how far ahead of schedule a key may run. A fresh key admits `τ/T + 1` unit-cost requests at once. */
  readonly burstToleranceUs: number;
}

/** One limit to check for one request. */
export interface LimitCheck {
  /** The store key; keys of one identity share a `{hash tag}` (see keys.ts). */
  readonly key: string;
  readonly params: GcraParams;
  /** Units this request costs (a non-negative integer; 0 only reads the state). */
  readonly cost: number;
  /** A shadow limit is evaluated and reported but never denies and never blocks a commit. */
  readonly shadow: boolean;
}

/** The outcome of one limit check. All times are microseconds relative to the decision's now. */
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

/** The decision for one request. */
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

/** A place that keeps GCRA state and decides atomically per request. */
export interface LimiterStore {
  /**
   * Check every limit of one request; commit new TATs only if every enforcing limit allows
   * (then each allowing limit, shadow or not, is committed). Answers synchronously when it can.
   */
  check(checks: readonly LimitCheck[]): Decision | Promise<Decision>;
  /** Release connections and timers. */
  close(): Promise<void>;
}

/** Microsecond wall clock, injected so the core never reads a host clock itself. */
export interface Clock {
  nowUs(): number;
}
