/**
 * Both phases in process memory: TATs in the MemoryStore's own table (so a rate limit that a
 * request checks through either path has one state), leases in a LeaseTable. Synchronous,
 * hence atomic; the same semantics as the Valkey script (phase.ts).
 * @module
 */
import type { MemoryStore } from "../memory/store.ts";
import type { Clock } from "../store.ts";
import { LeaseTable } from "./lease.ts";
import { decideRequest, type PhaseCheck, type PhaseDecision, type PhaseIo, settle, type Settlement, type SettleResult } from "./phase.ts";

/** Keys the lease sweep examines per call: it reclaims sets whose responses were all lost. */
const LEASE_SWEEP = 2;

/**
 * A store of the two phases: the request phase decides and acquires, the response phase
 * charges and releases. Implemented in memory here and over Valkey by valkey/store.ts.
 *
 * @example Count the phases a store runs
 * ```ts
 * import { MemoryPhaseStore, MemoryStore, type PhaseStore } from "@spoa-gcra/spoa-gcra";
 *
 * const clock = { nowUs: () => 0 };
 * const inner = new MemoryPhaseStore({ memory: new MemoryStore({ clock }), clock });
 * let calls = 0;
 * const counted: PhaseStore = {
 *   request: (checks, id) => (calls++, inner.request(checks, id)),
 *   response: (settlements, id) => (calls++, inner.response(settlements, id)),
 * };
 * counted.response([], "lease-1");
 * console.assert(calls === 1);
 * ```
 */
export interface PhaseStore {
  /**
   * The request phase of one request (phase.ts decideRequest).
   * @param checks Every limit of the request, in PhaseCheck form.
   * @param leaseId The request's lease id (unique across the fleet).
   * @returns The decision; leases and TATs are written only when it allows.
   */
  request(checks: readonly PhaseCheck[], leaseId: string): PhaseDecision | Promise<PhaseDecision>;
  /**
   * The response phase of one request (phase.ts settle).
   * @param settlements The ticket's entries with the response's actual costs.
   * @param leaseId The request's lease id.
   * @returns One result per settlement.
   */
  response(settlements: readonly Settlement[], leaseId: string): SettleResult[] | Promise<SettleResult[]>;
}

/**
 * The phases over a MemoryStore's TAT table plus leases held here.
 *
 * @example One request in flight per key
 * ```ts
 * import { MemoryPhaseStore, MemoryStore } from "@spoa-gcra/spoa-gcra";
 *
 * const clock = { nowUs: () => 0 };
 * const phases = new MemoryPhaseStore({ memory: new MemoryStore({ clock }), clock });
 * const check = { key: "k", params: { emissionIntervalUs: 1, burstToleranceUs: 1_000_000 }, cost: 1, shadow: false, rate: "request" as const, lease: { max: 1, ttlUs: 30_000_000 } };
 * console.assert(phases.request([check], "a").allowed && !phases.request([check], "b").allowed);
 * phases.response([{ ...check, estimate: 0, actual: undefined, lease: true }], "a");
 * console.assert(phases.request([check], "c").allowed);
 * ```
 */
export class MemoryPhaseStore implements PhaseStore {
  readonly #memory: MemoryStore;
  readonly #clock: Clock;
  readonly #leases = new LeaseTable();

  /** @param options The MemoryStore whose TATs the phases share, and the clock (the store's own). */
  constructor(options: { readonly memory: MemoryStore; readonly clock: Clock }) {
    this.#memory = options.memory;
    this.#clock = options.clock;
  }

  #io(): PhaseIo {
    const nowUs = Math.floor(this.#clock.nowUs());
    const memory = this.#memory;
    const leases = this.#leases;
    leases.sweep(nowUs, LEASE_SWEEP);
    return {
      nowUs,
      storedTat: (key) => memory.peekKey(key).tatUs,
      writeTat: (key, tat) => memory.writeKey(key, tat),
      liveLeases: (key) => leases.live(key, nowUs),
      addLease: (key, id, expiryUs) => leases.add(key, id, expiryUs),
      releaseLease: (key, id) => leases.release(key, id, nowUs),
    };
  }

  /**
   * The request phase, synchronously.
   * @param checks Every limit of the request.
   * @param leaseId The request's lease id.
   * @returns The decision.
   */
  request(checks: readonly PhaseCheck[], leaseId: string): PhaseDecision {
    return decideRequest(checks, leaseId, this.#io());
  }

  /**
   * The response phase, synchronously.
   * @param settlements The ticket's entries with the actual costs.
   * @param leaseId The request's lease id.
   * @returns One result per settlement.
   */
  response(settlements: readonly Settlement[], leaseId: string): SettleResult[] {
    return settle(settlements, leaseId, this.#io());
  }

  /** Keys holding leases (for tests and metrics). */
  get leaseKeys(): number {
    return this.#leases.size;
  }

  /** Drops every lease (the TATs belong to the MemoryStore). */
  clear(): void {
    this.#leases.clear();
  }
}
