/**
 * A bounded string → TAT map over typed arrays: at one million 32-char keys, 8 bytes of index +
 * 16 of entry + 40–50 of key pages a key (64–75 bytes; a Map<string, number> measured ~178).
 *
 * - Entries are dense (`0 … size-1`), 16 bytes each in one buffer so a lookup touches one cache
 *   line: TAT (Float64 at word 2e), hash and key record offset (Int32 at 4e+2, 4e+3). Removing
 *   an entry moves the last one into its place, so sweeps and eviction samples walk a dense range.
 * - The index is open addressing with linear probing over an Int32Array of entry+1 (0 = empty),
 *   at most 3/4 full, with backward-shift deletion (no tombstones, probe chains stay short).
 * - Keys live in a KeyArena (256 KiB byte pages), compared in place.
 * @module
 */
import { KEY_PAGE_BYTES, KeyArena, MAX_KEY_LENGTH } from "./key-arena.ts";
import { hashKey, randomSeed } from "./key-hash.ts";

/** Entries sampled per eviction; the one with the smallest TAT goes (Redis-style sampling). */
const EVICTION_SAMPLES = 8;

/** Options of a TatTable. */
export interface TatTableOptions {
  readonly maxKeys: number;
  /** Hash seed; random by default (fixed only in tests). */
  readonly seed?: number;
}

/** A snapshot of a table's memory use. */
export interface TatTableStats {
  readonly keys: number;
  readonly indexBytes: number;
  /** Entry bytes touched (16 a key; the reservation for maxKeys is mapped lazily). */
  readonly entryBytes: number;
  /** Key pages held (256 KiB each). */
  readonly keyBytes: number;
  readonly keyGarbageBytes: number;
}

/** The memory store's key → TAT table: bounded, incremental expiry, sampled eviction. */
export class TatTable {
  readonly #maxKeys: number;
  readonly #seed: number;
  // Sized once for maxKeys at ≤ 3/4 load: no rehash pause ever, and untouched pages cost nothing.
  #index!: Int32Array;
  #mask!: number;
  #count = 0;
  // Sized for maxKeys up front: large typed arrays are zero pages mapped on first touch, and
  // entries are filled densely from 0, so resident memory follows the key count without copies.
  #tats!: Float64Array;
  /** The same buffer as #tats, seen as Int32: hash at 4e+2, key offset at 4e+3. */
  #words!: Int32Array;
  readonly #arena: KeyArena;
  #cursor = 0;
  #rng: number;
  // The store reads a key and then writes the same key: remember the last lookup so the write
  // neither rehashes nor reprobes. #layout changes whenever a slot may have moved.
  #layout = 0;
  #memoKey: string | undefined = undefined;
  #memoHash = 0;
  #memoSlot = -1;
  #memoLayout = -1;

  constructor(options: TatTableOptions) {
    const maxKeys = options.maxKeys;
    if (!Number.isInteger(maxKeys) || maxKeys < 1) throw new RangeError(`maxKeys must be an integer ≥ 1, got ${maxKeys}`);
    this.#maxKeys = maxKeys;
    this.#seed = options.seed ?? randomSeed();
    this.#rng = this.#seed | 1;
    this.#allocateEntries();
    this.#allocateIndex();
    this.#arena = new KeyArena({ onMove: (owner, offset) => (this.#words[4 * owner + 3] = offset) });
  }

  /** Number of keys held (expired ones included until swept). */
  get size(): number {
    return this.#count;
  }

  /** Memory in use, for metrics and sizing (typed arrays and key pages, not counting untouched reservation). */
  get stats(): TatTableStats {
    return {
      keys: this.#count,
      indexBytes: this.#index.byteLength, // reserved; pages are touched as keys arrive
      entryBytes: 16 * this.#count,
      keyBytes: this.#arena.pageCount * KEY_PAGE_BYTES,
      keyGarbageBytes: this.#arena.garbageBytes,
    };
  }

  /** The stored TAT of `key`, undefined when absent. */
  get(key: string): number | undefined {
    const slot = this.#lookup(key);
    return slot < 0 ? undefined : this.#tats[2 * (this.#index[slot] - 1)];
  }

  /**
   * Stores `tat` for `key`. A key that is absent and whose TAT is ≤ now is not inserted: it
   * would behave exactly like an absent key. When full, evicts to make room.
   * @throws {RangeError} when inserting a key longer than MAX_KEY_LENGTH (nothing is changed).
   */
  write(key: string, tat: number, nowUs: number): void {
    const slot = this.#lookup(key);
    if (slot >= 0) {
      this.#tats[2 * (this.#index[slot] - 1)] = tat;
      return;
    }
    if (tat <= nowUs) return;
    if (key.length > MAX_KEY_LENGTH) throw new RangeError(`Key of ${key.length} code units exceeds the memory store's limit of ${MAX_KEY_LENGTH}`);
    const hash = this.#memoHash;
    this.#layout++;
    if (this.#count >= this.#maxKeys) this.#evict();
    const entry = this.#count;
    const offset = this.#arena.append(key, entry);
    this.#count++;
    this.#tats[2 * entry] = tat;
    this.#words[4 * entry + 2] = hash;
    this.#words[4 * entry + 3] = offset;
    this.#index[this.#emptySlot(hash)] = entry + 1;
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
    this.#arena.clear();
    this.#cursor = 0;
    this.#layout++;
  }

  /** The index slot of `key` (−1 when absent), memoized with its hash for the next call. */
  #lookup(key: string): number {
    if (this.#memoLayout === this.#layout && this.#memoKey === key) return this.#memoSlot;
    const hash = hashKey(key, this.#seed);
    const slot = this.#find(key, hash);
    this.#memoKey = key;
    this.#memoHash = hash;
    this.#memoSlot = slot;
    this.#memoLayout = this.#layout;
    return slot;
  }

  #find(key: string, hash: number): number {
    const index = this.#index;
    const mask = this.#mask;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const v = index[slot];
      if (v === 0) return -1;
      if (this.#words[4 * v - 2] === hash && this.#arena.equals(this.#words[4 * v - 1], key)) return slot;
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
    this.#arena.free(this.#words[4 * entry + 3]);
    const last = --this.#count;
    if (entry === last) return;
    this.#index[this.#slotOf(last)] = entry + 1;
    this.#tats[2 * entry] = this.#tats[2 * last];
    this.#words[4 * entry + 2] = this.#words[4 * last + 2];
    this.#words[4 * entry + 3] = this.#words[4 * last + 3];
    this.#arena.setOwner(this.#words[4 * entry + 3], entry);
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
  }

  #allocateIndex(): void {
    let size = 8;
    while (size * 3 < this.#maxKeys * 4) size *= 2;
    this.#index = new Int32Array(size);
    this.#mask = size - 1;
  }

  #allocateEntries(): void {
    const buffer = new ArrayBuffer(16 * this.#maxKeys);
    this.#tats = new Float64Array(buffer);
    this.#words = new Int32Array(buffer);
  }
}
