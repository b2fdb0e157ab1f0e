/**
 * Every HAProxy variable the agent sets: the one list the ACK builder (variables.ts), the
 * config's name-length check and the generated docs all read.
 * @module
 */

/** Variable names (the agent side of `<scope>.<var-prefix>.<name>`). */
export const VarName = {
  ipScore: "ip_score",
  allowed: "allowed",
  retryAfter: "retry_after",
  limit: "limit",
  remaining: "remaining",
  reset: "reset",
  policy: "policy",
  degraded: "degraded",
  ratelimit: "ratelimit",
  ratelimitPolicy: "ratelimit_policy",
  shadowDenied: "shadow_denied",
  /** The opaque value HAProxy sends back in the response message (response/ticket.ts); set only when a limit sees the response. */
  ticket: "ticket",
  /** On a denial by a concurrency limit: the status it asks for (429 or 503). */
  denyStatus: "deny_status",
} as const;

/** One variable the agent sets: `<scope>.<varPrefix>.<name>` in HAProxy. */
export interface AgentVariable {
  readonly scope: "sess" | "txn";
  readonly name: string;
}

/** Every variable set in ACKs, in ACK order; only `ip_score` lives for the whole session. */
export const AGENT_VARIABLES: readonly AgentVariable[] = Object.freeze(
  Object.values(VarName).map((name): AgentVariable => Object.freeze({ scope: name === VarName.ipScore ? "sess" : "txn", name })),
);
