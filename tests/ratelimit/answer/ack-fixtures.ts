// Limits and set-var actions as the ACK-building tests write them.
import { limitAnswer } from "../../../src/ratelimit/answer/limit-answer.ts";
import type { LimitDefinition } from "../../../src/ratelimit/policy/types.ts";
import type { CompiledLimit } from "../../../src/ratelimit/answer/limit-answer.ts";
import type { Action } from "../../../src/spop/types.ts";

/** A 100/s-style limit keyed by identity on check-rate (burst 21: T 10 ms, τ 200 ms). */
export function limit(name: string, shadow = false, count = 100, periodSeconds = 1): LimitDefinition {
  return {
    name,
    messages: ["check-rate"],
    match: [],
    key: [{ kind: "identity" }],
    count,
    periodSeconds,
    burst: 21,
    params: { emissionIntervalUs: 10_000, burstToleranceUs: 200_000 },
    cost: { kind: "constant", value: 1 },
    shadow,
  };
}

/** The limit as compiled policies carry it (definition plus the constants of its answer). */
export function compiled(definition: LimitDefinition): CompiledLimit {
  return { ...definition, answer: limitAnswer(definition) };
}

export const sess = (name: string, value: number): Action => ({ type: "set-var", scope: "sess", name, value: { kind: "int32", value } });
export const int = (name: string, value: number): Action => ({ type: "set-var", scope: "txn", name, value: { kind: "int32", value } });
export const bool = (name: string, value: boolean): Action => ({ type: "set-var", scope: "txn", name, value: { kind: "bool", value } });
export const str = (name: string, value: string): Action => ({ type: "set-var", scope: "txn", name, value: { kind: "string", value } });
