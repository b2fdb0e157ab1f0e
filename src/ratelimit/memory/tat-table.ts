/**
 * A bounded key → TAT map over typed arrays that keeps a 64-bit fingerprint of each key
 * (key-hash.ts) instead of its text: 8 bytes of index + 16 of entry a key (24.4 bytes at one
 * million keys; storing the ~30-char key text cost ~70, a Map<string, number> ~178), nothing
 * on the garbage-collected heap, and a lookup touches two cache lines and compares no text.
 *
 * The trade-off: two distinct keys with the same fingerprint share one GCRA state. With n keys
 * live the chance that any two collide is about n²/2⁶⁵ — 3·10⁻⁸ at a million keys — and the
 * effect is one client counted against another's budget until one of them expires.
 * Fingerprints are seeded per table, so a collision cannot be precomputed for every agent.
 *
 * - Entries are dense (`0 … size-1`), 16 bytes each in one buffer: TAT (Float64 at word 2e),
 *   fingerprint lanes A and B (Int32 at 4e+2, 4e+3). Removing an entry moves the last one into
 *   its place, so sweeps and eviction samples walk a dense range.
 * - The index is open addressing with linear probing on lane A over an Int32Array of entry+1
 *   (0 = empty), at most 3/4 full, with backward-shift deletion (no tombstones, short probes).
 * @module
 */

/** Entries sampled per eviction; the one with the smallest TAT goes (Redis-style sampling). */
const EVICTION_SAMPLES = 8;

/** Index slots for `maxKeys`: the power of two that keeps the index at most 3/4 full. */
function indexSlots(maxKeys: number): number {
  let size = 8;
  while (size * 3 < maxKeys * 4) size *= 2;
  return size;
}

/**
 * Bytes a full table of `maxKeys` keys occupies: 16 per entry plus the 4-byte index slots. The
 * index is touched at random, so once a few thousand keys are in, all of it is resident.
 */
export function tatTableBytes(maxKeys: number): number {
  return 16 * maxKeys + 4 * indexSlots(maxKeys);
}

/** Options of a TatTable. */
export interface TatTableOptions {
  readonly maxKeys: number;
  /** Seed of the eviction sampler; fixed only in tests. */
  readonly seed?: number;
}

/**
 * A snapshot of a table's memory use.
 *
 * @example Report the memory store's size
 * ```ts
 * import { MemoryStore, type TatTableStats } from "@spoa-gcra/spoa-gcra";
 *
 * const store = new MemoryStore({ clock: { nowUs: () => 0 } });
 * store.check([{ key: "k", params: { emissionIntervalUs: 1000, burstToleranceUs: 0 }, cost: 1, shadow: false }]);
 * const stats: TatTableStats = store.stats;
 * console.assert(stats.keys === 1 && stats.evictions === 0);
 * ```
 */
export interface TatTableStats {
  readonly keys: number;
  readonly indexBytes: number;
  /** Entry bytes touched (16 a key; the reservation for maxKeys is mapped lazily). */
  readonly entryBytes: number;
  /** Live keys dropped to make room since the table was made (never reset by clear()). */
  readonly evictions: number;
}

/** The memory store's key → TAT table: bounded, incremental expiry, sampled eviction. */
export class TatTable {
  readonly #maxKeys: number;
  // Sized once for maxKeys at ≤ 3/4 load: no rehash pause ever, and untouched pages cost nothing.
  #index!: Int32Array;
  #mask!: number;
  #count = 0;
  #evictions = 0;
  // Sized for maxKeys up front: large typed arrays are zero pages mapped on first touch, and
  // entries are filled densely from 0, so resident memory follows the key count without copies.
  #tats!: Float64Array;
  /** The same buffer as #tats, seen as Int32: lane A at 4e+2, lane B at 4e+3. */
  #words!: Int32Array;
  #cursor = 0;
  #rng: number;
  // The store reads a key and then writes the same key: remember the last lookup so the write
  // does not reprobe. #layout changes whenever a slot may have moved.
  #layout = 0;
  #memoA = 0;
  #memoB = 0;
  #memoSlot = -1;
  #memoLayout = -1;

  constructor(options: TatTableOptions) {
    const maxKeys = options.maxKeys;
    if (!Number.isInteger(maxKeys) || maxKeys < 1) throw new RangeError(`maxKeys must be an integer ≥ 1, got ${maxKeys}`);
    this.#maxKeys = maxKeys;
    this.#rng = (options.seed ?? (Math.random() * 0x1_0000_0000) | 0) | 1;
    this.#allocateEntries();
    this.#allocateIndex();
  }

  /** Number of keys held (expired ones included until swept). */
  get size(): number {
    return this.#count;
  }

  /** Memory in use, for metrics and sizing (typed arrays, not counting the untouched entry reservation). */
  get stats(): TatTableStats {
    return {
      keys: this.#count,
      indexBytes: this.#index.byteLength, // reserved; pages are touched as keys arrive
      entryBytes: 16 * this.#count,
      evictions: this.#evictions,
    };
  }

  /** The stored TAT of the key with fingerprint `print` (lanes A, B), undefined when absent. */
  get(print: Int32Array): number | undefined {
    const slot = this.#lookup(print[0], print[1]);
    return slot < 0 ? undefined : this.#tats[2 * (this.#index[slot] - 1)];
  }

  /**
   * Stores `tat` for the key with fingerprint `print`. A key that is absent and whose TAT is
   * ≤ now is not inserted: it would behave exactly like an absent key. When full, evicts.
   */
  write(print: Int32Array, tat: number, nowUs: number): void {
    const a = print[0];
    const b = print[1];
    const slot = this.#lookup(a, b);
    if (slot >= 0) {
      this.#tats[2 * (this.#index[slot] - 1)] = tat;
      return;
    }
    if (tat <= nowUs) return;
    this.#layout++;
    if (this.#count >= this.#maxKeys) this.#evict();
    const entry = this.#count++;
    this.#tats[2 * entry] = tat;
    this.#words[4 * entry + 2] = a;
    this.#words[4 * entry + 3] = b;
    this.#index[this.#emptySlot(a)] = entry + 1;
  }

  /** Removes the key with fingerprint `print`; answers the TAT it held, undefined when absent. */
  delete(print: Int32Array): number | undefined {
    const slot = this.#lookup(print[0], print[1]);
    if (slot < 0) return undefined;
    const entry = this.#index[slot] - 1;
    const tat = this.#tats[2 * entry];
    this.#layout++;
    this.#remove(entry);
    return tat;
  }

  /** Examines up to `budget` entries at the sweep cursor, dropping those whose TAT ≤ now. */
  sweep(nowUs: number, budget: number): number {
    let removed = 0;
    this.#layout++;
    for (let k = 0; k < budget && this.#count > 0; k++) {
      if (this.#cursor >= this.#count) this.#cursor = 0;
      if (this.#tats[2 * this.#cursor] <= nowUs) {
        this.#remove(this.#cursor); // the last entry moves in: examine this place again
        removed++;
      } else {
        this.#cursor++;
      }
    }
    return removed;
  }

  /** Forgets every key and releases the touched memory. */
  clear(): void {
    this.#allocateIndex();
    this.#count = 0;
    this.#allocateEntries();
    this.#cursor = 0;
    this.#layout++;
  }

  /** The index slot of fingerprint (a, b) (−1 when absent), memoized for the next call. */
  #lookup(a: number, b: number): number {
    if (this.#memoLayout === this.#layout && this.#memoA === a && this.#memoB === b) return this.#memoSlot;
    const slot = this.#find(a, b);
    this.#memoA = a;
    this.#memoB = b;
    this.#memoSlot = slot;
    this.#memoLayout = this.#layout;
    return slot;
  }

  #find(a: number, b: number): number {
    const index = this.#index;
    const words = this.#words;
    const mask = this.#mask;
    for (let slot = a & mask; ; slot = (slot + 1) & mask) {
      const v = index[slot];
      if (v === 0) return -1;
      if (words[4 * v - 2] === a && words[4 * v - 1] === b) return slot;
    }
  }

  #emptySlot(hash: number): number {
    let slot = hash & this.#mask;
    while (this.#index[slot] !== 0) slot = (slot + 1) & this.#mask;
    return slot;
  }

  #slotOf(entry: number): number {
    let slot = this.#words[4 * entry + 2] & this.#mask;
    while (this.#index[slot] !== entry + 1) slot = (slot + 1) & this.#mask;
    return slot;
  }

  #remove(entry: number): void {
    this.#unlink(this.#slotOf(entry));
    const last = --this.#count;
    if (entry === last) return;
    this.#index[this.#slotOf(last)] = entry + 1;
    this.#tats[2 * entry] = this.#tats[2 * last];
    this.#words[4 * entry + 2] = this.#words[4 * last + 2];
    this.#words[4 * entry + 3] = this.#words[4 * last + 3];
  }

  /** Backward-shift deletion: pull later members of the probe run into the hole. */
  #unlink(hole: number): void {
    const index = this.#index;
    const mask = this.#mask;
    let i = hole;
    for (let j = (hole + 1) & mask; index[j] !== 0; j = (j + 1) & mask) {
      const home = this.#words[4 * index[j] - 2] & mask;
      // The entry at j may move to i only if its home slot is not cyclically within (i, j].
      const stays = i <= j ? i < home && home <= j : i < home || home <= j;
      if (stays) continue;
      index[i] = index[j];
      i = j;
    }
    index[i] = 0;
  }

  /**
   * Evicts the entry with the smallest TAT among a few sampled ones. Safe: dropping a key forgives
   * at most its current debt (TAT − now ≤ τ + T, one burst), and the smallest TAT is the key
   * closest to being forgotten anyway (an expired one, TAT ≤ now, loses nothing at all).
   */
  #evict(): void {
    let victim = -1;
    for (let k = 0; k < EVICTION_SAMPLES; k++) {
      this.#rng ^= this.#rng << 13;
      this.#rng ^= this.#rng >>> 17;
      this.#rng ^= this.#rng << 5;
      const entry = (this.#rng >>> 0) % this.#count;
      if (victim < 0 || this.#tats[2 * entry] < this.#tats[2 * victim]) victim = entry;
    }
    this.#remove(victim);
    this.#evictions++;
  }

  #allocateIndex(): void {
    const size = indexSlots(this.#maxKeys);
    this.#index = new Int32Array(size);
    this.#mask = size - 1;
  }

  #allocateEntries(): void {
    const buffer = new ArrayBuffer(16 * this.#maxKeys);
    this.#tats = new Float64Array(buffer);
    this.#words = new Int32Array(buffer);
  }
}
