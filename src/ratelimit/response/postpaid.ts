/**
 * Post-paid GCRA: the cost of a request is known only from its response (tokens, bytes), so
 * the request phase admits a key while it is not in debt, optionally charging an estimate,
 * and the response phase adds the difference between the actual cost and the estimate. This
 * comment is THE specification; the Lua script (phase-lua.ts) mirrors it line by line.
 *
 * ```
 * Inputs: stored TAT (µs, absent = none), now, T, τ, estimate e (integer ≥ 0), actual a (integer ≥ 0).
 * capacity = τ + T                       (burst units fit in one capacity)
 * tat      = stored absent ? now : max(stored, now)
 *            (no upper clamp: the part of tat − now above capacity IS the debt)
 * Request phase (admit):
 *   need     = max(e, 1)                 (a key with less than one unit left is "in debt")
 *   if need × T > capacity: denied, neverPasses
 *   allowAt  = tat + need × T − capacity
 *   allowed  = now ≥ allowAt;  tat' = tat + e × T when allowed, tat otherwise
 *   retryAfterUs = allowAt − now when denied (exact: the first moment this request passes)
 * Response phase (settle, never denies):
 *   tat' = min(max(tat + (a − e) × T, now), now + 2 × capacity)
 * remaining = max(0, floor((capacity − (tat' − now)) / T));  resetUs = tat' − now
 * debt      = max(0, tat' − now − capacity) / T units
 * ```
 *
 * Why these choices:
 * - Admission needs one unit (not zero): a key exactly used up is refused like an ordinary GCRA
 *   key, so "in debt" and "denied" mean the same thing and Retry-After is the same formula.
 * - A refund (a < e) never lifts the key above a full bucket (the `max(…, now)`).
 * - The debt is bounded by one burst (tat' ≤ now + 2·capacity): a key is never refused for more
 *   than capacity + need·T (about one period when burst = count), however large the responses
 *   of its concurrent requests were, and its state lives at most 2·capacity (the key's TTL).
 * @module
 */
import type { GcraParams, LimitResult } from "../store.ts";

function remainingOf(capacity: number, ahead: number, t: number): number {
  const r = Math.floor((capacity - ahead) / t);
  return r > 0 ? r : 0;
}

/** The clamped current TAT of a post-paid key: never below now, no upper clamp (debt). */
export function postpaidTat(stored: number | undefined, nowUs: number): number {
  return stored === undefined || stored < nowUs ? nowUs : stored;
}

/** The request phase of one post-paid check; `newTat` is what to write when the request is allowed. */
export function postpaidAdmit(
  stored: number | undefined,
  nowUs: number,
  params: GcraParams,
  estimate: number,
): { readonly result: LimitResult; readonly tat: number; readonly newTat: number } {
  const t = params.emissionIntervalUs;
  const capacity = params.burstToleranceUs + t;
  const tat = postpaidTat(stored, nowUs);
  const need = estimate > 1 ? estimate : 1;
  if (need * t > capacity) {
    return { result: { allowed: false, neverPasses: true, retryAfterUs: 0, remaining: remainingOf(capacity, tat - nowUs, t), resetUs: tat - nowUs }, tat, newTat: tat };
  }
  const allowAt = tat + need * t - capacity;
  if (nowUs >= allowAt) {
    const newTat = tat + estimate * t;
    return { result: { allowed: true, neverPasses: false, retryAfterUs: 0, remaining: remainingOf(capacity, newTat - nowUs, t), resetUs: newTat - nowUs }, tat, newTat };
  }
  return { result: { allowed: false, neverPasses: false, retryAfterUs: allowAt - nowUs, remaining: remainingOf(capacity, tat - nowUs, t), resetUs: tat - nowUs }, tat, newTat: tat };
}

/** The response phase of one post-paid check: the TAT to write, and what the key looks like after it. */
export function postpaidSettle(
  stored: number | undefined,
  nowUs: number,
  params: GcraParams,
  charge: { readonly estimate: number; readonly actual: number },
): { readonly tat: number; readonly remaining: number; readonly resetUs: number; readonly debtUnits: number } {
  const t = params.emissionIntervalUs;
  const capacity = params.burstToleranceUs + t;
  let next = postpaidTat(stored, nowUs) + (charge.actual - charge.estimate) * t;
  if (next < nowUs) next = nowUs;
  if (next > nowUs + 2 * capacity) next = nowUs + 2 * capacity;
  const ahead = next - nowUs;
  return { tat: next, remaining: remainingOf(capacity, ahead, t), resetUs: ahead, debtUnits: ahead > capacity ? (ahead - capacity) / t : 0 };
}
