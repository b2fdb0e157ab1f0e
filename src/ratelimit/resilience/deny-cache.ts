/**
 * The local deny cache: after the authoritative store denied key K for cost c until U, every
 * request on K with cost ≥ c is denied until U, answered here without asking the store.
 *
 * Why that is exact (the store follows gcra.ts; θ is K's TAT, cap = τ + T):
 * 1. A denial at t0 means c ≥ 1 (cost 0 always passes) and, with θ0 = the clamped TAT at t0,
 *    U = t0 + retry = θ0 + c·T − cap, and c·T ≤ cap (else neverPasses, retry 0, nothing cached).
 * 2. Denials write nothing; an allowed request at t1 writes max(θ, t1) + c1·T ≥ θ. So θ never
 *    decreases, whichever agent writes. The key cannot expire before U either: for t < U,
 *    t < θ0 + c·T − cap ≤ θ0 ≤ θ.
 * 3. A request with cost c' ≥ c at t in [t0, U): its clamped TAT is max(θ, t) ≥ θ0 (or t + cap if
 *    θ ran more than cap ahead, and then t + c'·T > t denies it since c' ≥ 1), so its
 *    allowAt = tat + c'·T − cap ≥ θ0 + c·T − cap = U > t: denied.
 * So the cached answer is always right, and `U − t` is a lower bound of the true retry-after
 * (exact unless another agent pushed θ later meanwhile). A cheaper request (c' < c) may pass:
 * that is a miss.
 * The caller's part: retry-after is a duration from the store's decision instant, so pass
 * `untilUs = (own clock when the request was SENT) + retry`. That instant is not later than the
 * decision, whatever the latency or the offset between the agent's and the server's clocks, so
 * the cached window can only be shorter than the true one; the time the reply arrived would
 * make it longer by the round trip.
 * Assumes the store does not forget live keys (an evicting Valkey would forgive debt the cache
 * still enforces — the answer an unevicted store would give).
 *
 * Bounded: when full, the entry expiring soonest goes (a min-heap on U), which drops expired
 * entries first; an expired entry found by lookup is dropped on the spot.
 * @module
 */

/**
 * Options of a DenyCache.
 *
 * @example A small cache
 * ```ts
 * import { DenyCache, type DenyCacheOptions } from "@spoa-gcra/spoa-gcra";
 *
 * const options: DenyCacheOptions = { maxKeys: 10_000 };
 * console.assert(new DenyCache(options).size === 0);
 * ```
 */
export interface DenyCacheOptions {
  /** Bound on remembered keys; default 100,000. */
  readonly maxKeys?: number;
}

/** Default bound on remembered denials. */
export const DEFAULT_DENY_CACHE_KEYS = 100_000;
const MIN_CAPACITY = 256;

/**
 * Remembered denials per key, bounded, soonest-expiring evicted first: a client already denied
 * by a remote store is denied locally until its retry-after, without a round trip.
 *
 * @example Remember a denial, answer from it
 * ```ts
 * import { DenyCache } from "@spoa-gcra/spoa-gcra";
 *
 * const cache = new DenyCache({ maxKeys: 1000 });
 * cache.remember("rl:{192.0.2.1}:api", 1, 5_000_000); // denied for cost ≥ 1 until t = 5 s
 * console.assert(cache.lookup("rl:{192.0.2.1}:api", 1, 2_000_000) === 3_000_000);
 * console.assert(cache.lookup("rl:{192.0.2.1}:api", 1, 6_000_000) === undefined);
 * ```
 */
export class DenyCache {
  readonly #maxKeys: number;
  readonly #slots = new Map<string, number>();
  #keys: string[] = [];
  #until = new Float64Array(MIN_CAPACITY);
  #cost = new Float64Array(MIN_CAPACITY);
  /** heap[i] = slot; pos[slot] = i. Slots 0 … size−1 are dense (a removed slot takes the last). */
  #heap = new Int32Array(MIN_CAPACITY);
  #pos = new Int32Array(MIN_CAPACITY);
  #size = 0;

  /** @param options The bound on remembered keys. */
  constructor(options: DenyCacheOptions = {}) {
    const maxKeys = options.maxKeys ?? DEFAULT_DENY_CACHE_KEYS;
    if (!Number.isInteger(maxKeys) || maxKeys < 1) throw new RangeError(`maxKeys must be an integer ≥ 1, got ${maxKeys}`);
    this.#maxKeys = maxKeys;
  }

  /** Denials remembered (expired ones included until looked up or evicted). */
  get size(): number {
    return this.#size;
  }

  /**
   * The remaining retry-after (µs, > 0) when a remembered denial of `key` for a cost ≤ `cost`
   * still holds at `nowUs`; undefined otherwise (a miss: ask the store).
   *
   * @param key The full store key.
   * @param cost The request's cost.
   * @param nowUs The agent's clock now, µs.
   * @returns The remaining retry-after in µs, or undefined on a miss.
   */
  lookup(key: string, cost: number, nowUs: number): number | undefined {
    const slot = this.#slots.get(key);
    if (slot === undefined) return undefined;
    const until = this.#until[slot];
    if (until <= nowUs) {
      this.#remove(slot);
      return undefined;
    }
    return cost >= this.#cost[slot] ? until - nowUs : undefined;
  }

  /**
   * Remembers that `key` is denied for cost ≥ `cost` until `untilUs` (request send time + retry-after).
   * An entry for the same key is kept only if it covers more (cheaper cost and a later end).
   *
   * @param key The full store key.
   * @param cost The denied request's cost.
   * @param untilUs When the denial ends, µs on the agent's clock.
   */
  remember(key: string, cost: number, untilUs: number): void {
    if (!(cost >= 0) || !Number.isFinite(untilUs)) throw new RangeError(`Cannot remember a denial with cost ${cost} until ${untilUs}`);
    const existing = this.#slots.get(key);
    if (existing !== undefined) {
      if (cost >= this.#cost[existing] && untilUs <= this.#until[existing]) return;
      const earlier = untilUs < this.#until[existing];
      this.#cost[existing] = cost;
      this.#until[existing] = untilUs;
      if (earlier) this.#up(this.#pos[existing]);
      else this.#down(this.#pos[existing]);
      return;
    }
    if (this.#size >= this.#maxKeys) {
      // The soonest-expiring entry goes; if that is the new one, it is simply not stored.
      if (untilUs <= this.#until[this.#heap[0]]) return;
      this.#remove(this.#heap[0]);
    }
    const slot = this.#size++;
    if (slot === this.#until.length) this.#grow();
    this.#slots.set(key, slot);
    this.#keys[slot] = key;
    this.#cost[slot] = cost;
    this.#until[slot] = untilUs;
    this.#heap[slot] = slot;
    this.#pos[slot] = slot;
    this.#up(slot);
  }

  /**
   * The remembered denial of `key` still holding at `nowUs` (for inspect), without the cost filter of lookup.
   *
   * @param key The full store key.
   * @param nowUs The agent's clock now, µs.
   * @returns When the denial ends and the cost it covers, or undefined.
   */
  denial(key: string, nowUs: number): { readonly untilUs: number; readonly cost: number } | undefined {
    const slot = this.#slots.get(key);
    if (slot === undefined || this.#until[slot] <= nowUs) return undefined;
    return { untilUs: this.#until[slot], cost: this.#cost[slot] };
  }

  /**
   * Forgets the denial of `key` (an operator reset the key).
   *
   * @param key The full store key.
   * @returns True when there was one.
   */
  forget(key: string): boolean {
    const slot = this.#slots.get(key);
    if (slot === undefined) return false;
    this.#remove(slot);
    return true;
  }

  /** Forgets every denial. */
  clear(): void {
    this.#slots.clear();
    this.#size = 0;
    this.#keys = [];
    this.#until = new Float64Array(MIN_CAPACITY);
    this.#cost = new Float64Array(MIN_CAPACITY);
    this.#heap = new Int32Array(MIN_CAPACITY);
    this.#pos = new Int32Array(MIN_CAPACITY);
  }

  #remove(slot: number): void {
    const last = this.#size - 1;
    this.#slots.delete(this.#keys[slot]);
    // Take `slot` out of the heap: the heap's last element fills its place.
    const i = this.#pos[slot];
    const tail = this.#heap[last];
    this.#size = last;
    if (i !== last) {
      this.#heap[i] = tail;
      this.#pos[tail] = i;
      this.#up(i);
      this.#down(this.#pos[tail]);
    }
    // Keep slots dense: the last slot's data moves into the freed one.
    if (slot !== last) {
      const key = this.#keys[last];
      this.#keys[slot] = key;
      this.#cost[slot] = this.#cost[last];
      this.#until[slot] = this.#until[last];
      this.#slots.set(key, slot);
      const p = this.#pos[last];
      this.#heap[p] = slot;
      this.#pos[slot] = p;
    }
    this.#keys.length = last;
  }

  #up(i: number): void {
    const heap = this.#heap;
    const slot = heap[i];
    const until = this.#until[slot];
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.#until[heap[parent]] <= until) break;
      heap[i] = heap[parent];
      this.#pos[heap[i]] = i;
      i = parent;
    }
    heap[i] = slot;
    this.#pos[slot] = i;
  }

  #down(i: number): void {
    const heap = this.#heap;
    const n = this.#size;
    const slot = heap[i];
    const until = this.#until[slot];
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && this.#until[heap[child + 1]] < this.#until[heap[child]]) child++;
      if (this.#until[heap[child]] >= until) break;
      heap[i] = heap[child];
      this.#pos[heap[i]] = i;
      i = child;
    }
    heap[i] = slot;
    this.#pos[slot] = i;
  }

  #grow(): void {
    const size = Math.min(this.#maxKeys, this.#until.length * 2);
    this.#until = copyInto(new Float64Array(size), this.#until);
    this.#cost = copyInto(new Float64Array(size), this.#cost);
    this.#heap = copyInto(new Int32Array(size), this.#heap);
    this.#pos = copyInto(new Int32Array(size), this.#pos);
  }
}

function copyInto<A extends Float64Array | Int32Array>(target: A, source: A): A {
  target.set(source);
  return target;
}
