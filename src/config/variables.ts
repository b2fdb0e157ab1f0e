/**
 * The check that each full variable name the agent sets fits HAProxy (the list itself is
 * ratelimit's: the variables the ACK builder really sets).
 * @module
 */
import { AGENT_VARIABLES, type AgentVariable } from "../ratelimit/answer/variable-names.ts";

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
