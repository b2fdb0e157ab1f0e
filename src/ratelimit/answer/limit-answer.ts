/**
 * The constant part of one limit's answer, built once when the policies compile so that a
 * request's ACK only adds its numbers: the `txn.limit` and `txn.policy` actions (pre-encoded),
 * the start of the limit's `RateLimit` value, and its `RateLimit-Policy` item and header.
 * @module
 */
import { constantAction } from "../../spop/actions.ts";
import type { Action, TypedData, VarScopeName } from "../../spop/types.ts";
import type { LimitDefinition } from "../policy/types.ts";
import { policyItem, rateLimitPrefix } from "./ratelimit-headers.ts";
import { VarName } from "./variable-names.ts";

/**
 * What never changes in one limit's answer.
 *
 * @example The constants of a 100/s limit
 * ```ts
 * import { compilePolicies, gcraParams, type LimitAnswer } from "@spoa-gcra/spoa-gcra";
 *
 * const [limit] = compilePolicies([{
 *   name: "api", messages: ["check-rate"], match: [], key: [{ kind: "identity" }], count: 100, periodSeconds: 1, burst: 100,
 *   params: gcraParams({ count: 100, periodSeconds: 1 }, 100), cost: { kind: "constant", value: 1 }, shadow: false,
 * }], { keyPrefix: "rl:" }).checksFor({ name: "check-rate", args: [] }, "192.0.2.1")!.limits;
 * const answer: LimitAnswer = limit.answer;
 * console.assert(answer.policyItem === '"api";q=100;w=1' && answer.rateLimitPrefix === '"api";r=');
 * ```
 */
export interface LimitAnswer {
  /** `txn.limit`: the limit's count. */
  readonly limit: Action;
  /** `txn.policy`: the limit's name. */
  readonly policy: Action;
  /** `"name";r=`, the `RateLimit` value up to the remaining count. */
  readonly rateLimitPrefix: string;
  /** `"name";q=<count>;w=<window>`, this limit's `RateLimit-Policy` item. */
  readonly policyItem: string;
  /** `txn.ratelimit_policy` when this limit is the only enforcing one of a request. */
  readonly policyHeader: Action;
}

/**
 * A limit as compiled policies carry it: its definition, plus the constant part of its answer
 * (built once per compilation, so a request's ACK only adds numbers).
 *
 * @example The limits a request matched, with their answers
 * ```ts
 * import { compilePolicies, type CompiledLimit, gcraParams } from "@spoa-gcra/spoa-gcra";
 *
 * const policies = compilePolicies([{
 *   name: "api", messages: ["check-rate"], match: [], key: [{ kind: "identity" }], count: 10, periodSeconds: 1, burst: 10,
 *   params: gcraParams({ count: 10, periodSeconds: 1 }, 10), cost: { kind: "constant", value: 1 }, shadow: false,
 * }], { keyPrefix: "rl:" });
 * const limits: readonly CompiledLimit[] = policies.checksFor({ name: "check-rate", args: [] }, "192.0.2.1")!.limits;
 * console.assert(limits[0].name === "api" && limits[0].answer.policyItem === '"api";q=10;w=1');
 * ```
 */
export interface CompiledLimit extends LimitDefinition {
  readonly answer: LimitAnswer;
}

/** A set-var that never changes: frozen, and encoded once (writeActions copies its bytes). */
export function constantVar(scope: VarScopeName, name: string, value: TypedData): Action {
  return constantAction({ type: "set-var", scope, name, value });
}

/** An integer as SPOP's int32 when it fits, int64 otherwise. */
export function intValue(n: number): TypedData {
  return n >= -0x80000000 && n <= 0x7fffffff ? { kind: "int32", value: n } : { kind: "int64", value: n };
}

/** Builds the constant part of `definition`'s answer (policy compilation calls it once per limit). */
export function limitAnswer(definition: LimitDefinition): LimitAnswer {
  const item = policyItem(definition);
  return Object.freeze({
    limit: constantVar("txn", VarName.limit, intValue(definition.count)),
    policy: constantVar("txn", VarName.policy, { kind: "string", value: definition.name }),
    rateLimitPrefix: rateLimitPrefix(definition.name),
    policyItem: item,
    policyHeader: constantVar("txn", VarName.ratelimitPolicy, { kind: "string", value: item }),
  });
}
