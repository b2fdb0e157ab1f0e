/**
 * Every HAProxy variable the agent sets, and the check that each full name fits HAProxy.
 * @module
 */

/** One variable the agent sets: `<scope>.<varPrefix>.<name>` in HAProxy. */
export interface AgentVariable {
  readonly scope: "sess" | "txn";
  readonly name: string;
}

/** The variables set in ACKs (the handler and the docs use this list). */
export const AGENT_VARIABLES: readonly AgentVariable[] = [
  { scope: "sess", name: "ip_score" },
  { scope: "txn", name: "allowed" },
  { scope: "txn", name: "retry_after" },
  { scope: "txn", name: "limit" },
  { scope: "txn", name: "remaining" },
  { scope: "txn", name: "reset" },
  { scope: "txn", name: "policy" },
  { scope: "txn", name: "degraded" },
  { scope: "txn", name: "ratelimit" },
  { scope: "txn", name: "ratelimit_policy" },
  { scope: "txn", name: "shadow_denied" },
];

/** HAProxy refuses variable names longer than this (bytes, scope included). */
export const MAX_VARIABLE_NAME_BYTES = 63;
const VARIABLE_CHARS = /^[A-Za-z0-9_.]+$/;

/** The full HAProxy name of a variable under a prefix. */
export function variableName(variable: AgentVariable, varPrefix: string): string {
  return `${variable.scope}.${varPrefix}.${variable.name}`;
}

/** Problems with the variable names a prefix produces (empty when all fit). */
export function variableProblems(varPrefix: string): readonly string[] {
  const problems: string[] = [];
  for (const variable of AGENT_VARIABLES) {
    const full = variableName(variable, varPrefix);
    const bytes = new TextEncoder().encode(full).length;
    if (bytes > MAX_VARIABLE_NAME_BYTES) problems.push(`"${full}" is ${bytes} bytes, more than HAProxy's ${MAX_VARIABLE_NAME_BYTES}`);
    else if (!VARIABLE_CHARS.test(full)) problems.push(`"${full}" has characters other than [A-Za-z0-9_.]`);
  }
  return problems;
}
