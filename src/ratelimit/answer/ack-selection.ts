/**
 * Which variables the ACK sets. Every variable costs HAProxy a `set-var` per request (and the
 * agent the work of computing it), and most deployments read two or three of them, so the
 * operator names the ones their HAProxy config reads; the rest are neither computed nor sent.
 * @module
 */
import { AGENT_VARIABLES, VarName } from "./variable-names.ts";

/**
 * One flag per variable of the VarName table (variable-names.ts), true when the ACK sets it:
 * a variable added to the table is selectable here without another list to update.
 *
 * @example What a selection says
 * ```ts
 * import { type AckSelection, ackSelection } from "@spoa-gcra/spoa-gcra";
 *
 * const selection: AckSelection = ackSelection(["ip_score"]);
 * console.assert(selection.ipScore && !selection.retryAfter && selection.names.has("ip_score"));
 * ```
 */
export type AckSelection = { readonly [K in keyof typeof VarName]: boolean } & {
  /** True when every variable is selected (the builder's pre-shaped fast path). */
  readonly all: boolean;
  /** The selected names. */
  readonly names: ReadonlySet<string>;
};

/** Every name the agent can set, in ACK order. */
export const ACK_VARIABLE_NAMES: readonly string[] = Object.freeze(AGENT_VARIABLES.map((v) => v.name));

/**
 * What the shipped HAProxy configs (deploy/haproxy) and the seed's deny rule read: the verdict
 * (`sess.ip_score`, `txn.allowed`), `txn.retry_after` for the 429, the two RateLimit headers;
 * plus `txn.degraded`, which is only sent when the failure policy decided, so it costs nothing
 * while the store answers and makes a fallback decision visible in HAProxy's logs; and
 * `txn.ticket` / `txn.deny_status`, sent only for limits that see the response.
 */
export const DEFAULT_ACK_VARIABLES: readonly string[] = Object.freeze([
  VarName.ipScore,
  VarName.allowed,
  VarName.retryAfter,
  VarName.degraded,
  VarName.ratelimit,
  VarName.ratelimitPolicy,
  // Sent only by limits that see the response (response/phase-handler.ts), whatever the selection.
  VarName.ticket,
  VarName.denyStatus,
]);

/** Names that are not variables the agent sets (empty when all are known). */
export function unknownAckVariables(names: readonly string[]): string[] {
  return names.filter((n) => !ACK_VARIABLE_NAMES.includes(n));
}

/**
 * The selection of ACK variables for `names`.
 *
 * @param names Variable names the rate-limit handler sets, e.g. `ip_score`, `retry_after`.
 * @returns The flags `createRateLimitHandler({ variables })` reads.
 * @throws {RangeError} On a name the agent does not set.
 *
 * @example Send only the verdict and Retry-After
 * ```ts
 * import { ackSelection } from "@spoa-gcra/spoa-gcra";
 *
 * const lean = ackSelection(["ip_score", "retry_after"]);
 * console.assert(lean.ipScore && lean.retryAfter && !lean.ratelimit && !lean.all);
 * ```
 */
export function ackSelection(names: readonly string[]): AckSelection {
  const unknown = unknownAckVariables(names);
  if (unknown.length > 0) throw new RangeError(`unknown ACK variable(s) ${unknown.join(", ")} (known: ${ACK_VARIABLE_NAMES.join(", ")})`);
  const has = (name: string) => names.includes(name);
  const flags = Object.fromEntries(Object.entries(VarName).map(([key, name]) => [key, has(name)])) as { [K in keyof typeof VarName]: boolean };
  return Object.freeze({ ...flags, all: ACK_VARIABLE_NAMES.every(has), names: new Set(names) });
}

/** Every variable: what a library caller gets when it does not choose. */
export const ALL_ACK_VARIABLES: AckSelection = ackSelection(ACK_VARIABLE_NAMES);
