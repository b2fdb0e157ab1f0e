/**
 * Which limits need the response phase, and their checks in the form the phase stores take.
 * @module
 */
import { type KeyShape, SplitKeyCheck } from "../identity/keys.ts";
import type { GcraParams, LimitCheck } from "../store.ts";
import type { LimitDefinition } from "../policy/types.ts";
import type { LeaseSpec, PhaseCheck } from "./phase.ts";

/** How one limit takes part in the two phases. */
export interface PhaseSpec {
  readonly rate: "request" | "postpaid";
  readonly lease: LeaseSpec | undefined;
}

/** The limit's phase spec: undefined for a limit decided in the request alone (no response cost, no concurrency). */
export function phaseSpecOf(limit: LimitDefinition): PhaseSpec | undefined {
  const postpaid = limit.cost.kind === "response";
  const c = limit.concurrency;
  if (!postpaid && c === undefined) return undefined;
  return { rate: postpaid ? "postpaid" : "request", lease: c === undefined ? undefined : { max: c.max, ttlUs: c.leaseTtlSeconds * 1_000_000 } };
}

/** The phase spec of a limit decided in the request alone, when it shares a request with phased ones. */
export const REQUEST_ONLY: PhaseSpec = Object.freeze({ rate: "request", lease: undefined });

/** A SplitKeyCheck that also says how it takes part in the phases. */
export class SplitPhaseCheck extends SplitKeyCheck implements PhaseCheck {
  readonly rate: "request" | "postpaid";
  readonly lease: LeaseSpec | undefined;

  constructor(tag: string, check: { readonly shape: KeyShape; readonly params: GcraParams; readonly cost: number; readonly shadow: boolean }, spec: PhaseSpec) {
    super(tag, check);
    this.rate = spec.rate;
    this.lease = spec.lease;
  }

  override toJSON(): PhaseCheck {
    return { ...super.toJSON(), rate: this.rate, lease: this.lease };
  }
}

/** `check` as a PhaseCheck with `spec` (a plain copy when it is not a SplitKeyCheck). */
export function asPhaseCheck(check: LimitCheck, spec: PhaseSpec): PhaseCheck {
  if (check instanceof SplitKeyCheck) return new SplitPhaseCheck(check.tag, check, spec);
  return { key: check.key, params: check.params, cost: check.cost, shadow: check.shadow, rate: spec.rate, lease: spec.lease };
}
