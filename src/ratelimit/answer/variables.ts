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
import { constantAction } from "../../spop/actions.ts";
import { ALL_ACK_VARIABLES, type AckSelection } from "./ack-selection.ts";
import type { Action, TypedData, VarScopeName } from "../../spop/types.ts";
import type { LimitDefinition } from "../policy/types.ts";
import { ceilSeconds, policyField, rateLimitPrefix } from "./ratelimit-headers.ts";
import type { Decision, LimitResult } from "../store.ts";
import { VarName } from "./variable-names.ts";

/** `sess.ip_score` values, compatible with the seed configuration's `ge 80` deny rule. */
export const IP_SCORE_ALLOW = 0;
/** `sess.ip_score` value of a denied request. */
export const IP_SCORE_DENY = 100;

/** A constant action: frozen, and encoded once (writeActions copies its bytes). */
function setVar(scope: VarScopeName, name: string, value: TypedData): Action {
  return constantAction({ type: "set-var", scope, name, value });
}

function intValue(n: number): TypedData {
  return n >= -0x80000000 && n <= 0x7fffffff ? { kind: "int32", value: n } : { kind: "int64", value: n };
}

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

/** What never changes for one limit: its constant actions and the start of its RateLimit value. */
interface LimitConstants {
  readonly limit: Action;
  readonly policy: Action;
  /** `"name";r=`, the RateLimit value up to the remaining count. */
  readonly rateLimitPrefix: string;
  /** The txn.ratelimit_policy action when this limit is the only enforcing one (built on first use). */
  policyHeader: Action | undefined;
  policyHeaderItem: string;
}

// Keyed by the definition object: a reload compiles new definitions and the old entries go with them.
const constants = new WeakMap<LimitDefinition, LimitConstants>();
// Most requests match the same limit as the previous one: a one-entry front cache skips the WeakMap.
let lastLimit: LimitDefinition | undefined;
let lastConstants: LimitConstants | undefined;

function limitConstants(limit: LimitDefinition): LimitConstants {
  if (limit === lastLimit && lastConstants !== undefined) return lastConstants;
  let c = constants.get(limit);
  if (c === undefined) {
    c = {
      limit: setVar("txn", VarName.limit, intValue(limit.count)),
      policy: setVar("txn", VarName.policy, { kind: "string", value: limit.name }),
      rateLimitPrefix: rateLimitPrefix(limit.name),
      policyHeader: undefined,
      policyHeaderItem: "",
    };
    constants.set(limit, c);
  }
  lastLimit = limit;
  lastConstants = c;
  return c;
}

/** txn.ratelimit_policy: constant (and pre-encoded) for a single enforcing limit, joined otherwise. */
function policyHeaderAction(limits: readonly LimitDefinition[], policyItems: readonly string[]): Action | undefined {
  if (limits.length === 1 && !limits[0].shadow) {
    const c = limitConstants(limits[0]);
    const item = policyItems[0];
    if (c.policyHeader === undefined || c.policyHeaderItem !== item) {
      c.policyHeader = setVar("txn", VarName.ratelimitPolicy, { kind: "string", value: item });
      c.policyHeaderItem = item;
    }
    return c.policyHeader;
  }
  const enforcing = enforcingItems(limits, policyItems);
  return enforcing.length > 0 ? txnString(VarName.ratelimitPolicy, policyField(enforcing)) : undefined;
}

/** The limits that matched a request and their RateLimit-Policy items, index-aligned with the decision's results. */
type Matched = { readonly limits: readonly LimitDefinition[]; readonly policyItems: readonly string[] };

/**
 * The actions for one decision, only for the `selection`'s variables (default: all of them).
 * `limits` and `policyItems` are index-aligned with the decision's results (see PolicySet.checksFor).
 */
export function decisionActions(decision: Decision, matched: Matched, selection: AckSelection = ALL_ACK_VARIABLES): Action[] {
  return selection.all ? everyVariable(decision, matched) : selectedVariables(decision, matched, selection);
}

/**
 * The selected variables in ACK order; what is not selected is not computed (no RateLimit
 * string, no policy header, no shadow scan).
 */
function selectedVariables(decision: Decision, matched: Matched, s: AckSelection): Action[] {
  const { limits, policyItems } = matched;
  const allowed = decision.allowed;
  const index = decision.decidingIndex;
  const deciding = index >= 0 ? decision.results[index] : undefined;
  const limit = index >= 0 ? limits[index] : undefined;
  const actions: Action[] = [];
  if (s.ipScore) actions.push(allowed ? SCORE_ALLOW : SCORE_DENY);
  if (s.allowed) actions.push(allowed ? ALLOWED_TRUE : ALLOWED_FALSE);
  if (deciding !== undefined && limit !== undefined) {
    if (s.retryAfter && !allowed) actions.push(txnInt(VarName.retryAfter, retryAfterSeconds(deciding, limit)));
    const c = s.limit || s.policy || s.ratelimit ? limitConstants(limit) : undefined;
    const remaining = s.remaining || s.ratelimit ? Math.max(0, Math.floor(deciding.remaining)) : 0;
    const reset = s.reset || s.ratelimit ? ceilSeconds(deciding.resetUs) : 0;
    if (c !== undefined && s.limit) actions.push(c.limit);
    if (s.remaining) actions.push(txnInt(VarName.remaining, remaining));
    if (s.reset) actions.push(txnInt(VarName.reset, reset));
    if (c !== undefined && s.policy) actions.push(c.policy);
    if (s.degraded && decision.degraded) actions.push(DEGRADED);
    if (c !== undefined && s.ratelimit) actions.push(txnString(VarName.ratelimit, `${c.rateLimitPrefix}${remaining};t=${reset}`));
  } else {
    if (s.retryAfter && !allowed) actions.push(RETRY_AFTER_ONE);
    if (s.degraded && decision.degraded) actions.push(DEGRADED);
  }
  if (s.ratelimitPolicy) {
    const header = policyHeaderAction(limits, policyItems);
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
  const { limits, policyItems } = matched;
  const index = decision.decidingIndex;
  const deciding = index >= 0 ? decision.results[index] : undefined;
  const limit = index >= 0 ? limits[index] : undefined;
  const header = policyHeaderAction(limits, policyItems);
  let actions: Action[];
  if (deciding && limit) {
    const c = limitConstants(limit);
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

function enforcingItems(limits: readonly LimitDefinition[], items: readonly string[]): readonly string[] {
  let shadows = 0;
  for (let i = 0; i < limits.length; i++) if (limits[i].shadow) shadows++;
  if (shadows === 0) return items;
  const out: string[] = [];
  for (let i = 0; i < limits.length; i++) if (!limits[i].shadow) out.push(items[i]);
  return out;
}
