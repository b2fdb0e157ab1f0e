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

/** One key's leases: id → expiry, in insertion order; `ordered` while expiries never went down. */
interface LeaseSet {
  readonly leases: Map<string, number>;
  last: number;
  ordered: boolean;
}

/**
 * The memory store's leases: key → (id → expiry µs). Leases of one limit share a ttl, so they
 * expire in insertion order and counting drops expired ones from the front only (O(expired),
 * not O(leases)); after a ttl went down (a reload), one full scan restores the order.
 */
export class LeaseTable {
  readonly #sets = new Map<string, LeaseSet>();
  /** Where the incremental sweep goes on: keys whose responses were all lost are reclaimed without a timer. */
  #cursor: Iterator<string> | undefined;

  /** Live leases of `key` at `nowUs` (expired ones are dropped on the way). */
  live(key: string, nowUs: number): number {
    const set = this.#sets.get(key);
    if (set === undefined) return 0;
    const leases = set.leases;
    for (const [id, expiry] of leases) {
      if (expiry > nowUs) {
        if (set.ordered) break;
        continue;
      }
      leases.delete(id);
    }
    if (!set.ordered) {
      // The scan above saw every lease: the survivors' order is as good as any for the next ones.
      set.ordered = true;
      set.last = 0;
      for (const expiry of leases.values()) if (expiry > set.last) set.last = expiry;
      if (leases.size > 1) set.ordered = isSorted(leases);
    }
    if (leases.size === 0) this.#sets.delete(key);
    return leases.size;
  }

  /** Adds lease `id` to `key`, expiring at `expiryUs`. */
  add(key: string, id: string, expiryUs: number): void {
    let set = this.#sets.get(key);
    if (set === undefined) this.#sets.set(key, (set = { leases: new Map(), last: 0, ordered: true }));
    if (expiryUs < set.last) set.ordered = false;
    else set.last = expiryUs;
    set.leases.set(id, expiryUs);
  }

  /** Removes lease `id` of `key`; true when it was there and live. */
  release(key: string, id: string, nowUs: number): boolean {
    const set = this.#sets.get(key);
    if (set === undefined) return false;
    const expiry = set.leases.get(id);
    set.leases.delete(id);
    if (set.leases.size === 0) this.#sets.delete(key);
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

function isSorted(leases: Map<string, number>): boolean {
  let previous = -Infinity;
  for (const expiry of leases.values()) {
    if (expiry < previous) return false;
    previous = expiry;
  }
  return true;
}
