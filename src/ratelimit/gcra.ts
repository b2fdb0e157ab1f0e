/**
 * GCRA math: one limit step and the request-level decision. This comment is THE specification;
 * the Valkey Lua script mirrors it line by line, and tests/contract/store-suite.ts checks that
 * every store gives the same answers.
 *
 * ```
 * Inputs: stored TAT (µs, absent = none), now (µs), T = emissionIntervalUs, τ = burstToleranceUs,
 *         cost c (integer ≥ 0).
 * capacity  = τ + T                  (a fresh key admits floor(capacity/T) = τ/T + 1 unit-cost requests)
 * tat       = stored absent ? now : clamp(stored, now, now + capacity)
 * increment = c × T
 * if increment > capacity:  denied, neverPasses = true, retryAfterUs = 0, TAT unchanged
 * newTat    = tat + increment
 * allowAt   = newTat − capacity
 * allowed   = now ≥ allowAt          (i.e. newTat − now ≤ capacity)
 * if allowed: tat' = newTat, retryAfterUs = 0     else: tat' = tat, retryAfterUs = allowAt − now
 * remaining = max(0, floor((capacity − (tat' − now)) / T))
 * resetUs   = tat' − now
 * ```
 *
 * Request level: the request is allowed iff every non-shadow check is allowed. Only then is
 * anything written: tat' for each check that itself allowed, shadow or not. When the request is
 * denied nothing is written, and every result's remaining/reset come from the unchanged TAT
 * (tat' = tat for all; `allowed` and `retryAfterUs` of each check stay as computed).
 * decidingIndex: the first non-shadow denied check; when allowed, the non-shadow check with the
 * fewest remaining (ties: the first); −1 when there is no non-shadow check.
 * Checks are evaluated independently against the stored TATs (keys of one request are distinct:
 * keys.ts puts the limit name in the key); commits happen in check order.
 *
 * Key expiry: a TAT ≤ now behaves exactly like an absent key (the clamp lifts it to now), so a
 * key may be dropped once now ≥ TAT: TTL = tat' − now in ms, rounded up, at least 1 ms.
 * All values are integer µs (T and τ are integers by construction); plain numbers are exact
 * because epoch µs (~1.8e15) < 2^53, so retry-after and reset are exact integers.
 * @module
 */
import type { Decision, GcraParams, LimitCheck, LimitResult } from "./store.ts";

/** One limit step: the result as if committed, and the TATs before and after. */
export interface GcraOutcome {
  /** The result; when allowed, remaining/reset describe the state after committing `newTat`. */
  readonly result: LimitResult;
  /** The clamped current TAT (what stays when nothing is committed). */
  readonly tat: number;
  /** tat': the TAT to write when allowed; equals `tat` when denied. */
  readonly newTat: number;
}

/** Where a limit step happens: the stored TAT (undefined when absent) and now, in µs. */
export interface GcraState {
  readonly storedTat: number | undefined;
  readonly nowUs: number;
}

/** The store side of a request-level decision: read stored TATs, write committed ones. */
export interface DecideOptions {
  /** Now in integer µs; one value for every check of the request. */
  readonly nowUs: number;
  /** The stored TAT of a check's key, undefined when absent. Called once per check, before any commit. */
  storedTat(check: LimitCheck, index: number): number | undefined;
  /** Write `tat` for a check; called only when the request is allowed, once per allowing check. */
  commit(check: LimitCheck, tat: number, index: number): void;
}

/** Throws RangeError unless T ≥ 1 and τ ≥ 0 are integers and cost is an integer ≥ 0. */
function validate(params: GcraParams, cost: number): void {
  const t = params.emissionIntervalUs;
  const tau = params.burstToleranceUs;
  if (!Number.isInteger(t) || t < 1 || !Number.isInteger(tau) || tau < 0) {
    throw new RangeError(`Invalid GCRA params: T=${t} µs, τ=${tau} µs (want integers, T ≥ 1, τ ≥ 0)`);
  }
  if (!Number.isInteger(cost) || cost < 0) {
    throw new RangeError(`Invalid cost ${cost}: want an integer ≥ 0`);
  }
}

function remainingOf(capacity: number, ahead: number, t: number): number {
  const r = Math.floor((capacity - ahead) / t);
  return r > 0 ? r : 0;
}

/** The spec above for one check; the result assumes an allowed check is committed. */
function step(stored: number | undefined, now: number, params: GcraParams, cost: number): LimitResult {
  validate(params, cost);
  const t = params.emissionIntervalUs;
  const capacity = params.burstToleranceUs + t;
  let tat = now;
  if (stored !== undefined && stored > now) tat = stored > now + capacity ? now + capacity : stored;
  const increment = cost * t;
  if (increment > capacity) {
    return { allowed: false, neverPasses: true, retryAfterUs: 0, remaining: remainingOf(capacity, tat - now, t), resetUs: tat - now };
  }
  const newTat = tat + increment;
  const allowAt = newTat - capacity;
  if (now >= allowAt) {
    return { allowed: true, neverPasses: false, retryAfterUs: 0, remaining: remainingOf(capacity, newTat - now, t), resetUs: newTat - now };
  }
  return { allowed: false, neverPasses: false, retryAfterUs: allowAt - now, remaining: remainingOf(capacity, tat - now, t), resetUs: tat - now };
}

/** One GCRA step for one check (see the module comment). */
export function gcraStep(check: Pick<LimitCheck, "params" | "cost">, state: GcraState): GcraOutcome {
  const result = step(state.storedTat, state.nowUs, check.params, check.cost);
  const newTat = state.nowUs + result.resetUs;
  const tat = result.allowed ? newTat - check.cost * check.params.emissionIntervalUs : newTat;
  return { result, tat, newTat };
}

/** Milliseconds a key with TAT `tatUs` must be kept at `nowUs`: rounded up, at least 1. */
export function tatTtlMs(tatUs: number, nowUs: number): number {
  const ms = Math.ceil((tatUs - nowUs) / 1000);
  return ms > 1 ? ms : 1;
}

/**
 * The request-level decision (see the module comment): reads every stored TAT first, then
 * commits through `options.commit` only when every enforcing check allowed.
 */
export function decide(checks: readonly LimitCheck[], options: DecideOptions): Decision {
  const now = options.nowUs;
  const n = checks.length;
  const results = new Array<LimitResult>(n);
  let allowed = true;
  let denier = -1;
  for (let i = 0; i < n; i++) {
    const check = checks[i];
    const result = step(options.storedTat(check, i), now, check.params, check.cost);
    results[i] = result;
    if (!result.allowed && !check.shadow && allowed) {
      allowed = false;
      denier = i;
    }
  }
  if (!allowed) {
    // Nothing is written, so an allowing check reports the unchanged TAT: tat = newTat − c·T.
    for (let i = 0; i < n; i++) {
      const r = results[i];
      if (!r.allowed) continue;
      const check = checks[i];
      const t = check.params.emissionIntervalUs;
      const ahead = r.resetUs - check.cost * t;
      const capacity = check.params.burstToleranceUs + t;
      results[i] = { allowed: true, neverPasses: false, retryAfterUs: 0, remaining: remainingOf(capacity, ahead, t), resetUs: ahead };
    }
    return { allowed: false, decidingIndex: denier, results, degraded: false };
  }
  let deciding = -1;
  for (let i = 0; i < n; i++) {
    const check = checks[i];
    const r = results[i];
    if (r.allowed) options.commit(check, now + r.resetUs, i);
    if (!check.shadow && (deciding < 0 || r.remaining < results[deciding].remaining)) deciding = i;
  }
  return { allowed: true, decidingIndex: deciding, results, degraded: false };
}
