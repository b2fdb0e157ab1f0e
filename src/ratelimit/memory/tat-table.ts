/**
 * A bounded string → TAT map over typed arrays, ~64 bytes a key at one million keys
 * (a Map<string, number> costs well over 100).
 *
 * - Entries are dense (`0 … size-1`): TAT (Float64), hash (Int32), key record offset (Int32).
 *   Removing an entry moves the last one into its place, so sweeps and eviction samples walk
 *   a dense range.
 * - The index is open addressing with linear probing over an Int32Array of entry+1 (0 = empty),
 *   at most 3/4 full, with backward-shift deletion (no tombstones, probe chains stay short).
 * - Keys live in a KeyArena (one byte buffer), compared in place.
 * @module
 */
import { KeyArena } from "./key-arena.ts";
import { hashKey, randomSeed } from "./key-hash.ts";

const MIN_SLOTS = 1024;
/** Entries sampled per eviction; the one with the smallest TAT goes (Redis-style sampling). */
const EVICTION_SAMPLES = 8;

/** Options of a TatTable. */
export interface TatTableOptions {
  readonly maxKeys: number;
  /** Hash seed; random by default (fixed only in tests). */
  readonly seed?: number;
}

/** The memory store's key → TAT table: bounded, incremental expiry, sampled eviction. */
export class TatTable {
  readonly #maxKeys: number;
  readonly #seed: number;
  #index = new Int32Array(MIN_SLOTS);
  #mask = MIN_SLOTS - 1;
  #count = 0;
  // Sized for maxKeys up front: large typed arrays are zero pages mapped on first touch, and
  // entries are filled densely from 0, so resident memory follows the key count without copies.
  #tats: Float64Array;
  #hashes: Int32Array;
  #offsets: Int32Array;
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
    this.#tats = new Float64Array(maxKeys);
    this.#hashes = new Int32Array(maxKeys);
    this.#offsets = new Int32Array(maxKeys);
    this.#arena = new KeyArena({ onMove: (owner, offset) => (this.#offsets[owner] = offset) });
  }

  /** Number of keys held (expired ones included until swept). */
  get size(): number {
    return this.#count;
  }

  /** The stored TAT of `key`, undefined when absent. */
  get(key: string): number | undefined {
    const slot = this.#lookup(key);
    return slot < 0 ? undefined : this.#tats[this.#index[slot] - 1];
  }

  /**
   * Stores `tat` for `key`. A key that is absent and whose TAT is ≤ now is not inserted: it
   * would behave exactly like an absent key. When full, evicts to make room.
   */
  write(key: string, tat: number, nowUs: number): void {
    const slot = this.#lookup(key);
    if (slot >= 0) {
      this.#tats[this.#index[slot] - 1] = tat;
      return;
    }
    if (tat <= nowUs) return;
    const hash = this.#memoHash;
    this.#layout++;
    if (this.#count >= this.#maxKeys) this.#evict();
    if ((this.#count + 1) * 4 > this.#index.length * 3) this.#growIndex();
    const entry = this.#count++;
    this.#tats[entry] = tat;
    this.#hashes[entry] = hash;
    this.#offsets[entry] = this.#arena.append(key, entry);
    this.#index[this.#emptySlot(hash)] = entry + 1;
  }

  /** Examines up to `budget` entries at the sweep cursor, dropping those whose TAT ≤ now. */
  sweep(nowUs: number, budget: number): number {
    let removed = 0;
    this.#layout++;
    for (let k = 0; k < budget && this.#count > 0; k++) {
      if (this.#cursor >= this.#count) this.#cursor = 0;
      if (this.#tats[this.#cursor] <= nowUs) {
        this.#remove(this.#cursor); // the last entry moves in: examine this place again
        removed++;
      } else {
        this.#cursor++;
      }
    }
    return removed;
  }

  /** Forgets every key and returns to the initial (small) size. */
  clear(): void {
    this.#index = new Int32Array(MIN_SLOTS);
    this.#mask = MIN_SLOTS - 1;
    this.#count = 0;
    this.#tats = new Float64Array(this.#maxKeys);
    this.#hashes = new Int32Array(this.#maxKeys);
    this.#offsets = new Int32Array(this.#maxKeys);
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
      if (this.#hashes[v - 1] === hash && this.#arena.equals(this.#offsets[v - 1], key)) return slot;
    }
  }

  #emptySlot(hash: number): number {
    let slot = hash & this.#mask;
    while (this.#index[slot] !== 0) slot = (slot + 1) & this.#mask;
    return slot;
  }

  #slotOf(entry: number): number {
    let slot = this.#hashes[entry] & this.#mask;
    while (this.#index[slot] !== entry + 1) slot = (slot + 1) & this.#mask;
    return slot;
  }

  #remove(entry: number): void {
    this.#unlink(this.#slotOf(entry));
    this.#arena.free(this.#offsets[entry]);
    const last = --this.#count;
    if (entry === last) return;
    this.#index[this.#slotOf(last)] = entry + 1;
    this.#tats[entry] = this.#tats[last];
    this.#hashes[entry] = this.#hashes[last];
    this.#offsets[entry] = this.#offsets[last];
    this.#arena.setOwner(this.#offsets[entry], entry);
  }

  /** Backward-shift deletion: pull later members of the probe run into the hole. */
  #unlink(hole: number): void {
    const index = this.#index;
    const mask = this.#mask;
    let i = hole;
    for (let j = (hole + 1) & mask; index[j] !== 0; j = (j + 1) & mask) {
      const home = this.#hashes[index[j] - 1] & mask;
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
      if (victim < 0 || this.#tats[entry] < this.#tats[victim]) victim = entry;
    }
    this.#remove(victim);
  }

  #growIndex(): void {
    const size = this.#index.length * 2;
    this.#index = new Int32Array(size);
    this.#mask = size - 1;
    for (let entry = 0; entry < this.#count; entry++) this.#index[this.#emptySlot(this.#hashes[entry])] = entry + 1;
  }
}
