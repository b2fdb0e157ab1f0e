/**
 * The two phases of limits that see the response (response/phase-lua.ts) over Valkey: each
 * phase through the per-tick batcher (phase-batch.ts), and a request or a settlement whose keys
 * span cluster slots split into one call per hash tag.
 * @module
 */
import type { PhaseCheck, PhaseDecision, Settlement, SettleResult } from "../response/phase.ts";
import { decodeRequestPhase, decodeResponsePhase, type PhaseOp, requestPhaseOp, responsePhaseOp } from "../response/phase-codec.ts";
import { validateChecks } from "./codec.ts";
import { mergeDecisions, tagGroups } from "./cross-slot.ts";
import { ValkeyStoreError } from "./errors.ts";
import { type PhaseBatchDeps, PhaseBatcher } from "./phase-batch.ts";

/** What the phase calls need from their store: the batcher's deps, the key prefix, whether it is closed. */
export interface PhaseCallDeps extends PhaseBatchDeps {
  readonly keyPrefix: string;
  readonly closed: () => boolean;
}

/** The request and response phases of one store (its PhaseStore half). */
export class PhaseCalls {
  readonly #deps: PhaseCallDeps;
  readonly #batcher: PhaseBatcher;

  /** @param deps How to send a call, the deadline, the grouping, the error mapping and the key prefix. */
  constructor(deps: PhaseCallDeps) {
    this.#deps = deps;
    this.#batcher = new PhaseBatcher(deps);
  }

  /** The request phase of `checks` under `leaseId` (PhaseStore.request). */
  request(checks: readonly PhaseCheck[], leaseId: string): Promise<PhaseDecision> {
    validateChecks(checks);
    if (this.#deps.byTag && checks.length > 1) {
      const groups = tagGroups(checks, this.#deps.keyPrefix);
      if (groups !== undefined) return this.#requestAcrossSlots(checks, groups, leaseId);
    }
    const op = checks.length === 0 ? undefined : requestPhaseOp(checks, leaseId, this.#deps.keyPrefix);
    return this.#phase(op, (reply) => decodeRequestPhase(reply, checks.length));
  }

  /** The response phase: settles `settlements` of `leaseId` (PhaseStore.response). */
  response(settlements: readonly Settlement[], leaseId: string): Promise<SettleResult[]> {
    if (this.#deps.byTag && settlements.length > 1) {
      // A ticket whose keys span cluster slots settles per slot (the response phase never denies).
      const groups = tagGroups(settlements.map((s) => ({ key: s.key, params: s.params, cost: 0, shadow: true })), this.#deps.keyPrefix);
      if (groups !== undefined) {
        return Promise.all(groups.map((group) => this.response(group.map((i) => settlements[i]), leaseId))).then((parts) => {
          const results = new Array<SettleResult>(settlements.length);
          groups.forEach((group, g) => group.forEach((index, j) => (results[index] = parts[g][j])));
          return results;
        });
      }
    }
    const op = settlements.length === 0 ? undefined : responsePhaseOp(settlements, leaseId, this.#deps.keyPrefix);
    return this.#phase(op, (reply) => decodeResponsePhase(reply, settlements.length));
  }

  /**
   * A request whose checks span cluster slots (see cross-slot.ts): one request-phase call per
   * hash tag, denied if any denies. A part that allowed is then undone where it can be: its
   * leases released and its estimates refunded (its ordinary rate limits stay spent, as in check()).
   */
  async #requestAcrossSlots(checks: readonly PhaseCheck[], groups: readonly (readonly number[])[], leaseId: string): Promise<PhaseDecision> {
    const parts = groups.map((group) => group.map((i) => checks[i]));
    const decisions = await Promise.all(parts.map((part) => this.request(part, leaseId)));
    const merged = mergeDecisions(checks, groups, decisions) as PhaseDecision;
    if (merged.allowed) return merged;
    await Promise.all(parts.map((part, g) => {
      if (!decisions[g].allowed) return undefined;
      const undo: Settlement[] = part
        .filter((c) => c.rate === "postpaid" || c.lease !== undefined)
        .map((c) => ({ key: c.key, params: c.params, rate: c.rate, estimate: c.rate === "postpaid" ? c.cost : 0, actual: c.rate === "postpaid" ? 0 : undefined, lease: c.lease !== undefined }));
      return undo.length === 0 ? undefined : this.response(undo, leaseId);
    }));
    return merged;
  }

  /** The phase of one request through the batcher; `decode` reads its part of the reply. */
  #phase<T>(op: PhaseOp | undefined, decode: (reply: unknown) => T): Promise<T> {
    if (this.#deps.closed()) return Promise.reject(new ValkeyStoreError("closed", "Valkey store is closed"));
    if (op === undefined) return Promise.resolve(decode([]));
    return this.#batcher.run(op).then(decode);
  }
}
