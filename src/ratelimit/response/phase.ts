/**
 * The two-phase decision of a request whose limits see the response.
 *
 * Request phase (decideRequest): every check of the request — ordinary GCRA limits, post-paid
 * limits (postpaid.ts) and concurrency leases (lease.ts) — is evaluated against the stored
 * state first; the request is allowed iff every non-shadow check allowed (a check with a lease
 * allows iff its rate part and its lease both do). Only then is anything written: for each
 * check that itself allowed, its new TAT, and its lease. So a request denied by one limit holds
 * no lease and spends no budget of another (all-or-nothing, as in gcra.ts).
 *
 * Response phase (settle): for each entry of the request's ticket, a post-paid check adds
 * actual − estimate (postpaid.ts settle; never denies) and a leased check releases its lease.
 * An entry whose actual cost is unknown (missing or bad input) keeps its estimate: its TAT is
 * not written, but its lease is still released — the request is over either way.
 *
 * Stores implement this through PhaseIo (memory) or the Lua script in phase-lua.ts (Valkey),
 * which mirrors these functions line by line.
 * @module
 */
import { gcraStep } from "../gcra.ts";
import type { Decision, GcraParams, LimitCheck, LimitResult } from "../store.ts";
import { LEASE_RETRY_US } from "./lease.ts";
import { postpaidAdmit, postpaidSettle } from "./postpaid.ts";

/**
 * A concurrency limit on a check: at most `max` leases live at once, each for `ttlUs`.
 *
 * @example 10 in flight, leases of 30 s
 * ```ts
 * import type { LeaseSpec } from "@spoa-gcra/spoa-gcra";
 *
 * const lease: LeaseSpec = { max: 10, ttlUs: 30_000_000 };
 * console.assert(lease.ttlUs / 1e6 === 30);
 * ```
 */
export interface LeaseSpec {
  readonly max: number;
  readonly ttlUs: number;
}

/**
 * A LimitCheck of the request phase. `rate` says how its GCRA part works: "request" (the
 * ordinary cost from the request, gcra.ts) or "postpaid" (`cost` is the estimate, postpaid.ts).
 *
 * @example Tokens charged after the response, 2 in flight
 * ```ts
 * import type { PhaseCheck } from "@spoa-gcra/spoa-gcra";
 *
 * const check: PhaseCheck = {
 *   key: "rl:{k}:tokens:1", params: { emissionIntervalUs: 600, burstToleranceUs: 59_999_400 }, cost: 0, shadow: false,
 *   rate: "postpaid", lease: { max: 2, ttlUs: 30_000_000 },
 * };
 * console.assert(check.rate === "postpaid");
 * ```
 */
export interface PhaseCheck extends LimitCheck {
  readonly rate: "request" | "postpaid";
  readonly lease: LeaseSpec | undefined;
}

/**
 * One check's result in the request phase.
 *
 * @example Refused by a full concurrency limit
 * ```ts
 * import type { PhaseResult } from "@spoa-gcra/spoa-gcra";
 *
 * const full: PhaseResult = { allowed: false, neverPasses: false, retryAfterUs: 1_000_000, remaining: 5, resetUs: 0, leaseDenied: true, inFlight: 10 };
 * console.assert(full.leaseDenied && full.inFlight === 10);
 * ```
 */
export interface PhaseResult extends LimitResult {
  /** True when the check's lease was refused (the concurrency limit was full). */
  readonly leaseDenied: boolean;
  /** Live leases of the check's key after the decision (0 without a lease). */
  readonly inFlight: number;
}

/**
 * A request-phase Decision with PhaseResults.
 *
 * @example The first request of a key
 * ```ts
 * import { MemoryPhaseStore, MemoryStore, type PhaseDecision } from "@spoa-gcra/spoa-gcra";
 *
 * const clock = { nowUs: () => 0 };
 * const phases = new MemoryPhaseStore({ memory: new MemoryStore({ clock }), clock });
 * const check = { key: "k", params: { emissionIntervalUs: 1_000_000, burstToleranceUs: 0 }, cost: 0, shadow: false, rate: "postpaid" as const, lease: undefined };
 * const decision: PhaseDecision = phases.request([check], "lease-1");
 * console.assert(decision.allowed && decision.results[0].inFlight === 0);
 * ```
 */
export interface PhaseDecision extends Decision {
  readonly results: readonly PhaseResult[];
}

/**
 * One entry of a response ticket: what the response phase needs for one check.
 *
 * @example 120 tokens reported, none estimated, the lease given back
 * ```ts
 * import type { Settlement } from "@spoa-gcra/spoa-gcra";
 *
 * const settlement: Settlement = { key: "rl:{k}:tokens:1", params: { emissionIntervalUs: 600, burstToleranceUs: 0 }, rate: "postpaid", estimate: 0, actual: 120, lease: true };
 * console.assert(settlement.actual === 120);
 * ```
 */
export interface Settlement {
  readonly key: string;
  readonly params: GcraParams;
  readonly rate: "request" | "postpaid";
  /** Units charged in the request phase (post-paid only; 0 otherwise). */
  readonly estimate: number;
  /** The response's actual cost; undefined keeps the estimate (TAT not written). */
  readonly actual: number | undefined;
  /** True when the request holds a lease on this check's key. */
  readonly lease: boolean;
}

/**
 * What the response phase did for one settlement.
 *
 * @example A key pushed into debt
 * ```ts
 * import { MemoryPhaseStore, MemoryStore, type SettleResult } from "@spoa-gcra/spoa-gcra";
 *
 * const clock = { nowUs: () => 0 };
 * const phases = new MemoryPhaseStore({ memory: new MemoryStore({ clock }), clock });
 * const params = { emissionIntervalUs: 1_000_000, burstToleranceUs: 9_000_000 };
 * const [result]: SettleResult[] = phases.response([{ key: "k", params, rate: "postpaid", estimate: 0, actual: 15, lease: false }], "lease-1");
 * console.assert(result.remaining === 0 && result.resetUs === 15_000_000);
 * ```
 */
export interface SettleResult {
  /** True when the lease was there and live, and is now gone. */
  readonly released: boolean;
  /** After the charge (post-paid), else the unchanged state: remaining units and µs to a full bucket. */
  readonly remaining: number;
  readonly resetUs: number;
}

/** The key of a check's lease set: the check's key plus `:lease` (same hash tag, same slot). */
export function leaseKey(key: string): string {
  return `${key}:lease`;
}

/** The store side of both phases; every read happens before any write. */
export interface PhaseIo {
  readonly nowUs: number;
  storedTat(key: string): number | undefined;
  writeTat(key: string, tat: number): void;
  liveLeases(leaseKey: string): number;
  addLease(leaseKey: string, id: string, expiryUs: number): void;
  releaseLease(leaseKey: string, id: string): boolean;
}

function remainingOf(capacity: number, ahead: number, t: number): number {
  const r = Math.floor((capacity - ahead) / t);
  return r > 0 ? r : 0;
}

/** The request phase (see the module comment); `leaseId` names this request's leases. */
export function decideRequest(checks: readonly PhaseCheck[], leaseId: string, io: PhaseIo): PhaseDecision {
  const now = io.nowUs;
  const n = checks.length;
  const results = new Array<PhaseResult>(n);
  const tats = new Array<number>(n);
  const newTats = new Array<number>(n);
  const live = new Array<number>(n);
  let allowed = true;
  let denier = -1;
  for (let i = 0; i < n; i++) {
    const c = checks[i];
    const stored = io.storedTat(c.key);
    const step = c.rate === "postpaid" ? postpaidAdmit(stored, now, c.params, c.cost) : gcraStep(c, { storedTat: stored, nowUs: now });
    tats[i] = step.tat;
    newTats[i] = step.newTat;
    live[i] = c.lease === undefined ? 0 : io.liveLeases(leaseKey(c.key));
    const leaseDenied = c.lease !== undefined && live[i] >= c.lease.max;
    const r = step.result;
    const ok = r.allowed && !leaseDenied;
    const retry = leaseDenied && !r.neverPasses && r.retryAfterUs < LEASE_RETRY_US ? LEASE_RETRY_US : r.retryAfterUs;
    results[i] = { ...r, allowed: ok, retryAfterUs: ok ? 0 : retry, leaseDenied, inFlight: live[i] };
    if (!ok && !c.shadow && allowed) {
      allowed = false;
      denier = i;
    }
  }
  let deciding = denier;
  for (let i = 0; i < n; i++) {
    const c = checks[i];
    const r = results[i];
    const t = c.params.emissionIntervalUs;
    const capacity = c.params.burstToleranceUs + t;
    if (allowed && r.allowed) {
      io.writeTat(c.key, newTats[i]);
      if (c.lease !== undefined) {
        io.addLease(leaseKey(c.key), leaseId, now + c.lease.ttlUs);
        results[i] = { ...r, inFlight: live[i] + 1 };
      }
    } else if (r.allowed || r.leaseDenied) {
      // Nothing written for this check: remaining and reset describe the unchanged TAT.
      results[i] = { ...r, remaining: remainingOf(capacity, tats[i] - now, t), resetUs: tats[i] - now };
    }
    if (allowed && !c.shadow && (deciding < 0 || results[i].remaining < results[deciding].remaining)) deciding = i;
  }
  return { allowed, decidingIndex: deciding, results, degraded: false };
}

/** The response phase (see the module comment); never denies, returns one result per settlement. */
export function settle(settlements: readonly Settlement[], leaseId: string, io: PhaseIo): SettleResult[] {
  const now = io.nowUs;
  const stored = settlements.map((s) => io.storedTat(s.key));
  return settlements.map((s, i) => {
    const released = s.lease ? io.releaseLease(leaseKey(s.key), leaseId) : false;
    const t = s.params.emissionIntervalUs;
    const capacity = s.params.burstToleranceUs + t;
    const tat = stored[i] === undefined || stored[i]! < now ? now : stored[i]!;
    if (s.rate !== "postpaid" || s.actual === undefined) {
      return { released, remaining: remainingOf(capacity, tat - now, t), resetUs: tat - now };
    }
    const next = postpaidSettle(stored[i], now, s.params, { estimate: s.estimate, actual: s.actual });
    io.writeTat(s.key, next.tat);
    return { released, remaining: next.remaining, resetUs: next.resetUs };
  });
}
