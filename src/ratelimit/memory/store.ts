/**
 * The in-process limiter store: exact for one agent, synchronous, bounded memory.
 *
 * - `check()` returns a Decision, never a Promise: the hot path answers in the same tick.
 * - At most `maxKeys` keys (default 1,000,000; ~25 bytes each, see memory/tat-table.ts).
 * - Keys are remembered by a seeded 64-bit fingerprint, not their text: two keys whose
 *   fingerprints collide (odds ≈ n²/2⁶⁵, 3·10⁻⁸ with a million keys) share one state.
 * - Expired keys (TAT ≤ now, equivalent to absent) are reclaimed a few per check; no timers.
 * - When full of live keys, the key with the smallest TAT among a few samples is evicted:
 *   forgetting a key forgives at most its current debt (one burst), never more.
 * @module
 */
import { decide } from "../gcra.ts";
import type { DecideOptions } from "../gcra.ts";
import { SplitKeyCheck } from "../identity/keys.ts";
import { Fingerprinter } from "./key-hash.ts";
import { TatTable } from "./tat-table.ts";
import type { TatTableStats } from "./tat-table.ts";
import type { Clock, Decision, LimitCheck, LimiterStore } from "../store.ts";
import type { KeyAdmin, StoredKey } from "../store-admin.ts";

/** Default bound on distinct keys (issue 6: 1M keys within the agent's 128 MiB). */
export const DEFAULT_MAX_KEYS = 1_000_000;
/** Entries the expiry sweep examines per check, plus one per limit: it outpaces insertions (≤ 1 per limit). */
const SWEEP_PER_CHECK = 1;

/**
 * Options of a MemoryStore.
 *
 * @example A smaller table for a sidecar
 * ```ts
 * import { MemoryStore, type MemoryStoreOptions } from "@spoa-gcra/spoa-gcra";
 * import { clock } from "@spoa-gcra/spoa-gcra/bun";
 *
 * const options: MemoryStoreOptions = { clock, maxKeys: 100_000 };
 * console.assert(new MemoryStore(options).size === 0);
 * ```
 */
export interface MemoryStoreOptions {
  readonly clock: Clock;
  /** Bound on distinct keys; default 1,000,000. */
  readonly maxKeys?: number;
  /** Seed of the key fingerprints and eviction sampling; random by default (fixed only in tests). */
  readonly seed?: number;
}

type Io = { nowUs: number } & DecideOptions;

/** GCRA state in process memory; see the module comment. */
/**
 * GCRA state in process memory, bounded in keys, answering synchronously.
 *
 * @example Limit a client to its burst
 * ```ts
 * import { MemoryStore } from "@spoa-gcra/spoa-gcra";
 * import { clock } from "@spoa-gcra/spoa-gcra/bun";
 *
 * const store = new MemoryStore({ clock, maxKeys: 10_000 });
 * const check = { key: "rl:{192.0.2.1}:api", params: { emissionIntervalUs: 1_000_000, burstToleranceUs: 1_000_000 }, cost: 1, shadow: false };
 * const [first, second, third] = [store.check([check]), store.check([check]), store.check([check])];
 * console.assert(first.allowed && second.allowed && !third.allowed && third.results[0].retryAfterUs > 0);
 * await store.close();
 * ```
 */
export class MemoryStore implements LimiterStore, KeyAdmin {
  readonly #clock: Clock;
  readonly #table: TatTable;
  readonly #fingerprint: Fingerprinter;
  /** Fingerprint of checks[i] at #prints[i], computed once per check; grown to the most checks seen. */
  #prints: Int32Array[] = [];
  /** Reused for every check, so a check allocates only its Decision. */
  readonly #io: Io;

  /** @param options The clock, the key bound and (in tests) a fixed seed. */
  constructor(options: MemoryStoreOptions) {
    this.#clock = options.clock;
    const table = new TatTable({ maxKeys: options.maxKeys ?? DEFAULT_MAX_KEYS, seed: options.seed });
    this.#table = table;
    this.#fingerprint = new Fingerprinter(options.seed);
    const io: Io = {
      nowUs: 0,
      storedTat: (_check, i) => table.get(this.#prints[i]),
      commit: (_check, tat, i) => table.write(this.#prints[i], tat, io.nowUs),
    };
    this.#io = io;
  }

  /**
   * Decides synchronously; see LimiterStore.check.
   *
   * @param checks Every limit of one request.
   * @returns The decision; new TATs are committed only when every enforcing check allowed.
   * @throws {RangeError} For an invalid cost or params — before any write.
   */
  check(checks: readonly LimitCheck[]): Decision {
    const fingerprint = this.#fingerprint;
    while (this.#prints.length < checks.length) this.#prints.push(new Int32Array(2));
    for (let i = 0; i < checks.length; i++) {
      const check = checks[i];
      // The policy's checks carry their key in parts: hash the identity, never join the text.
      if (check instanceof SplitKeyCheck) fingerprint.ofTag(check.tag, check.shape.rest);
      else fingerprint.ofKey(check.key);
      const print = this.#prints[i];
      print[0] = fingerprint.out[0];
      print[1] = fingerprint.out[1];
    }
    // The spec wants integer µs; a fractional clock (performance.now based) is floored once here.
    const now = Math.floor(this.#clock.nowUs());
    this.#table.sweep(now, SWEEP_PER_CHECK + checks.length);
    this.#io.nowUs = now;
    return decide(checks, this.#io);
  }

  /**
   * Reads a key's TAT (by its full text) without writing anything: for inspect.
   *
   * @param key A full store key, as in LimitCheck.key.
   * @returns The store's now and the key's TAT (undefined when absent).
   */
  peekKey(key: string): StoredKey {
    this.#fingerprint.ofKey(key);
    return { nowUs: Math.floor(this.#clock.nowUs()), tatUs: this.#table.get(this.#fingerprint.out) };
  }

  /**
   * Writes a key's TAT (by its full text): the response-phase store (response/memory-phases.ts)
   * keeps post-paid and rate TATs in this same table, so both paths see one state per key.
   *
   * @param key A full store key, as in LimitCheck.key.
   * @param tatUs The TAT to keep; a key at or below now is not inserted (it equals an absent one).
   */
  writeKey(key: string, tatUs: number): void {
    this.#fingerprint.ofKey(key);
    this.#table.write(this.#fingerprint.out, tatUs, Math.floor(this.#clock.nowUs()));
  }

  /**
   * Deletes a key (by its full text).
   *
   * @param key A full store key, as in LimitCheck.key.
   * @returns The TAT it held, or undefined when there was none.
   */
  deleteKey(key: string): number | undefined {
    this.#fingerprint.ofKey(key);
    return this.#table.delete(this.#fingerprint.out);
  }

  /** Keys held, including expired ones not yet swept. */
  get size(): number {
    return this.#table.size;
  }

  /** Memory in use by the key table (for metrics and sizing). */
  get stats(): TatTableStats {
    return this.#table.stats;
  }

  /** Forgets every key. */
  clear(): void {
    this.#table.clear();
  }

  /** Frees the table; the store keeps working (empty) if used again. */
  close(): Promise<void> {
    this.#table.clear();
    return Promise.resolve();
  }
}
