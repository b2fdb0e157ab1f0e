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
 */
export interface PhaseStore {
  /** The request phase of one request (phase.ts decideRequest). */
  request(checks: readonly PhaseCheck[], leaseId: string): PhaseDecision | Promise<PhaseDecision>;
  /** The response phase of one request (phase.ts settle). */
  response(settlements: readonly Settlement[], leaseId: string): SettleResult[] | Promise<SettleResult[]>;
}

/** The phases over a MemoryStore's TAT table plus leases held here. */
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

  request(checks: readonly PhaseCheck[], leaseId: string): PhaseDecision {
    return decideRequest(checks, leaseId, this.#io());
  }

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
