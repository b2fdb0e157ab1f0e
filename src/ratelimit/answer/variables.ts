/**
 * Maps a Decision to the ACK's set-var actions. HAProxy names them `<scope>.<var-prefix>.<name>`
 * (the prefix is the SPOE `option var-prefix`, e.g. `rl`), so `ip_score` becomes `sess.rl.ip_score`.
 *
 * Order matters: HAProxy stops applying an ACK at the first action it cannot apply, so the
 * variables a deny rule needs come first:
 * `sess.ip_score` (0 allow / 100 deny, what the seed's `deny … if { var(sess.rl.ip_score) -m int ge 80 }`
 * reads), `txn.allowed`, on deny `txn.retry_after`, then `txn.limit`, `txn.remaining`,
 * `txn.reset`, `txn.policy`, `txn.degraded` (only when degraded), `txn.ratelimit`,
 * `txn.ratelimit_policy` and `txn.shadow_denied` (only when a shadow limit denied).
 * The operator may choose a subset (ack-selection.ts); the order of what is sent stays the same.
 * @module
 */
import { ALL_ACK_VARIABLES, type AckSelection } from "./ack-selection.ts";
import type { Action } from "../../spop/types.ts";
import type { LimitDefinition } from "../policy/types.ts";
import type { CompiledLimit } from "./limit-answer.ts";
import { constantVar as setVar, intValue } from "./limit-answer.ts";
import { ceilSeconds, policyField } from "./ratelimit-headers.ts";
import type { Decision, LimitResult } from "../store.ts";
import { VarName } from "./variable-names.ts";

/** `sess.ip_score` values, compatible with the seed configuration's `ge 80` deny rule. */
export const IP_SCORE_ALLOW = 0;
/** `sess.ip_score` value of a denied request. */
export const IP_SCORE_DENY = 100;

function txnInt(name: string, n: number): Action {
  return { type: "set-var", scope: "txn", name, value: intValue(n) };
}

function txnString(name: string, value: string): Action {
  return { type: "set-var", scope: "txn", name, value: { kind: "string", value } };
}

// Constant actions are built once; only the per-request numbers and strings allocate.
const SCORE_ALLOW = setVar("sess", VarName.ipScore, { kind: "int32", value: IP_SCORE_ALLOW });
const SCORE_DENY = setVar("sess", VarName.ipScore, { kind: "int32", value: IP_SCORE_DENY });
const ALLOWED_TRUE = setVar("txn", VarName.allowed, { kind: "bool", value: true });
const ALLOWED_FALSE = setVar("txn", VarName.allowed, { kind: "bool", value: false });
const RETRY_AFTER_ONE = setVar("txn", VarName.retryAfter, { kind: "int32", value: 1 });
const DEGRADED = setVar("txn", VarName.degraded, { kind: "int32", value: 1 });

/** The failure decision's actions (engine error, store failure without a fallback). */
export const FAILURE_ACTIONS: Readonly<Record<"allow" | "deny", readonly Action[]>> = Object.freeze({
  allow: Object.freeze([SCORE_ALLOW, ALLOWED_TRUE, DEGRADED]),
  deny: Object.freeze([SCORE_DENY, ALLOWED_FALSE, RETRY_AFTER_ONE, DEGRADED]),
});

/** FAILURE_ACTIONS[`kind`] reduced to the selected variables. */
export function failureActions(kind: "allow" | "deny", selection: AckSelection = ALL_ACK_VARIABLES): readonly Action[] {
  const all = FAILURE_ACTIONS[kind];
  if (selection.all) return all;
  return Object.freeze(all.filter((a) => a.type === "set-var" && selection.names.has(a.name)));
}

/**
 * Whole seconds until a denied request may retry, rounded up and at least 1. A request that
 * can never pass (cost above the burst) gets the limit's period: waiting won't help, but a client
 * honouring Retry-After should still back off for a meaningful time.
 */
export function retryAfterSeconds(result: LimitResult, limit: LimitDefinition): number {
  if (result.neverPasses) return Math.max(1, Math.ceil(limit.periodSeconds));
  return Math.max(1, ceilSeconds(result.retryAfterUs));
}

/** Names of the shadow limits that denied, in check order. */
export function shadowDenials(decision: Decision, limits: readonly LimitDefinition[]): string[] {
  const names: string[] = [];
  for (let i = 0; i < limits.length; i++) {
    if (limits[i].shadow && !decision.results[i].allowed) names.push(limits[i].name);
  }
  return names;
}

/** txn.ratelimit_policy: the limit's own constant (pre-encoded) header for a single enforcing limit, joined otherwise. */
function policyHeaderAction(limits: readonly CompiledLimit[]): Action | undefined {
  if (limits.length === 1 && !limits[0].shadow) return limits[0].answer.policyHeader;
  const enforcing = enforcingItems(limits);
  return enforcing.length > 0 ? txnString(VarName.ratelimitPolicy, policyField(enforcing)) : undefined;
}

/** The limits that matched a request, index-aligned with the decision's results (see PolicySet.checksFor). */
type Matched = { readonly limits: readonly CompiledLimit[] };

/**
 * The actions for one decision, only for the `selection`'s variables (default: all of them).
 * `matched.limits` is index-aligned with the decision's results (see PolicySet.checksFor).
 */
export function decisionActions(decision: Decision, matched: Matched, selection: AckSelection = ALL_ACK_VARIABLES): Action[] {
  return selection.all ? everyVariable(decision, matched) : selectedVariables(decision, matched, selection);
}

/**
 * The selected variables in ACK order; what is not selected is not computed (no RateLimit
 * string, no policy header, no shadow scan).
 */
function selectedVariables(decision: Decision, matched: Matched, s: AckSelection): Action[] {
  const { limits } = matched;
  const allowed = decision.allowed;
  const index = decision.decidingIndex;
  const deciding = index >= 0 ? decision.results[index] : undefined;
  const limit = index >= 0 ? limits[index] : undefined;
  const actions: Action[] = [];
  if (s.ipScore) actions.push(allowed ? SCORE_ALLOW : SCORE_DENY);
  if (s.allowed) actions.push(allowed ? ALLOWED_TRUE : ALLOWED_FALSE);
  if (deciding !== undefined && limit !== undefined) {
    if (s.retryAfter && !allowed) actions.push(txnInt(VarName.retryAfter, retryAfterSeconds(deciding, limit)));
    const c = limit.answer;
    const remaining = s.remaining || s.ratelimit ? Math.max(0, Math.floor(deciding.remaining)) : 0;
    const reset = s.reset || s.ratelimit ? ceilSeconds(deciding.resetUs) : 0;
    if (s.limit) actions.push(c.limit);
    if (s.remaining) actions.push(txnInt(VarName.remaining, remaining));
    if (s.reset) actions.push(txnInt(VarName.reset, reset));
    if (s.policy) actions.push(c.policy);
    if (s.degraded && decision.degraded) actions.push(DEGRADED);
    if (s.ratelimit) actions.push(txnString(VarName.ratelimit, `${c.rateLimitPrefix}${remaining};t=${reset}`));
  } else {
    if (s.retryAfter && !allowed) actions.push(RETRY_AFTER_ONE);
    if (s.degraded && decision.degraded) actions.push(DEGRADED);
  }
  if (s.ratelimitPolicy) {
    const header = policyHeaderAction(limits);
    if (header !== undefined) actions.push(header);
  }
  if (s.shadowDenied) {
    for (let i = 0; i < limits.length; i++) {
      if (limits[i].shadow && !decision.results[i].allowed) {
        actions.push(txnString(VarName.shadowDenied, limits[i].name));
        break;
      }
    }
  }
  return actions;
}

/** Every variable, with the usual answers pre-shaped as one array literal each. */
function everyVariable(decision: Decision, matched: Matched): Action[] {
  const { limits } = matched;
  const index = decision.decidingIndex;
  const deciding = index >= 0 ? decision.results[index] : undefined;
  const limit = index >= 0 ? limits[index] : undefined;
  const header = policyHeaderAction(limits);
  let actions: Action[];
  if (deciding && limit) {
    const c = limit.answer;
    const remaining = Math.max(0, Math.floor(deciding.remaining));
    const reset = ceilSeconds(deciding.resetUs);
    const remainingVar = txnInt(VarName.remaining, remaining);
    const resetVar = txnInt(VarName.reset, reset);
    // Same text as rateLimitField(name, remaining, resetUs), from the cached `"name";r=` prefix.
    const field = txnString(VarName.ratelimit, `${c.rateLimitPrefix}${remaining};t=${reset}`);
    const retry = decision.allowed ? undefined : txnInt(VarName.retryAfter, retryAfterSeconds(deciding, limit));
    if (!decision.degraded && header !== undefined) {
      // The usual answers as one array literal each: no growth while pushing.
      actions = retry === undefined
        ? [SCORE_ALLOW, ALLOWED_TRUE, c.limit, remainingVar, resetVar, c.policy, field, header]
        : [SCORE_DENY, ALLOWED_FALSE, retry, c.limit, remainingVar, resetVar, c.policy, field, header];
    } else {
      actions = retry === undefined ? [SCORE_ALLOW, ALLOWED_TRUE] : [SCORE_DENY, ALLOWED_FALSE, retry];
      actions.push(c.limit, remainingVar, resetVar, c.policy);
      if (decision.degraded) actions.push(DEGRADED);
      actions.push(field);
      if (header !== undefined) actions.push(header);
    }
  } else {
    actions = decision.allowed ? [SCORE_ALLOW, ALLOWED_TRUE] : [SCORE_DENY, ALLOWED_FALSE, RETRY_AFTER_ONE];
    if (decision.degraded) actions.push(DEGRADED);
    if (header !== undefined) actions.push(header);
  }
  for (let i = 0; i < limits.length; i++) {
    if (limits[i].shadow && !decision.results[i].allowed) {
      actions.push(txnString(VarName.shadowDenied, limits[i].name));
      break;
    }
  }
  return actions;
}

function enforcingItems(limits: readonly CompiledLimit[]): readonly string[] {
  const out: string[] = [];
  for (let i = 0; i < limits.length; i++) if (!limits[i].shadow) out.push(limits[i].answer.policyItem);
  return out;
}
