/**
 * Concurrency leases: per key a set of (lease id → expiry µs). This comment is THE
 * specification; the Lua script (phase-lua.ts) keeps the same set as a sorted set whose
 * scores are the expiries, and the memory store keeps it in a LeaseTable.
 *
 * ```
 * live(key, now)  = members with expiry > now     (expired members are dropped first)
 * acquire allowed = live < max
 * commit          = add (id, now + ttl)           (only when the whole request is allowed)
 * release(id)     = remove id                     (idempotent: a second release changes nothing)
 * ```
 * A request whose response never reaches the agent (client abort, HAProxy reload or crash, an
 * agent restart with a new ticket secret) holds its slot until now + ttl and not a moment
 * longer: the member stops counting at its expiry whether or not anything sweeps it.
 * A denial by a lease says nothing exact about when a slot frees (that is when some response
 * comes back), so it carries a fixed Retry-After of LEASE_RETRY_US.
 * @module
 */

/** Retry-After of a request refused only by a concurrency limit: 1 s. */
export const LEASE_RETRY_US = 1_000_000;

/** The memory store's leases: key → (id → expiry µs), swept on every touch of the key. */
export class LeaseTable {
  readonly #sets = new Map<string, Map<string, number>>();
  /** Where the incremental sweep goes on: keys whose responses were all lost are reclaimed without a timer. */
  #cursor: Iterator<string> | undefined;

  /** Live leases of `key` at `nowUs` (expired ones are dropped on the way). */
  live(key: string, nowUs: number): number {
    const set = this.#sets.get(key);
    if (set === undefined) return 0;
    for (const [id, expiry] of set) if (expiry <= nowUs) set.delete(id);
    if (set.size === 0) this.#sets.delete(key);
    return set.size;
  }

  /** Adds lease `id` to `key`, expiring at `expiryUs`. */
  add(key: string, id: string, expiryUs: number): void {
    let set = this.#sets.get(key);
    if (set === undefined) this.#sets.set(key, (set = new Map()));
    set.set(id, expiryUs);
  }

  /** Removes lease `id` of `key`; true when it was there and live. */
  release(key: string, id: string, nowUs: number): boolean {
    const set = this.#sets.get(key);
    if (set === undefined) return false;
    const expiry = set.get(id);
    set.delete(id);
    if (set.size === 0) this.#sets.delete(key);
    return expiry !== undefined && expiry > nowUs;
  }

  /** Examines up to `budget` keys (round robin) and drops their expired leases. */
  sweep(nowUs: number, budget: number): void {
    for (let i = 0; i < budget; i++) {
      this.#cursor ??= this.#sets.keys();
      const next = this.#cursor.next();
      if (next.done) {
        this.#cursor = undefined;
        return;
      }
      this.live(next.value, nowUs);
    }
  }

  /** Keys holding at least one lease (live or not yet swept). */
  get size(): number {
    return this.#sets.size;
  }

  /** Drops every lease. */
  clear(): void {
    this.#sets.clear();
  }
}
