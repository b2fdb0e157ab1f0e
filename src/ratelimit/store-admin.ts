/**
 * Operator access to stored GCRA state: read one key without consuming anything, delete one
 * key, and what a stored TAT means for a limit right now. Used by the admin endpoint and the
 * `inspect` / `reset` commands, never on the hot path, so one key at a time is fine.
 * @module
 */
import { gcraStep } from "./gcra.ts";
import type { GcraParams } from "./store.ts";

/**
 * A key's stored state at one instant of the store's clock.
 *
 * @example Inspect a key
 * ```ts
 * import { MemoryStore, type StoredKey } from "@spoa-gcra/spoa-gcra";
 *
 * const store = new MemoryStore({ clock: { nowUs: () => 5_000_000 } });
 * store.check([{ key: "k", params: { emissionIntervalUs: 1_000_000, burstToleranceUs: 0 }, cost: 1, shadow: false }]);
 * const stored: StoredKey = store.peekKey("k");
 * console.assert(stored.nowUs === 5_000_000 && stored.tatUs === 6_000_000);
 * ```
 */
export interface StoredKey {
  /** The store's now, µs since the epoch (Valkey: the server's TIME, as the script uses). */
  readonly nowUs: number;
  /** The stored TAT, µs since the epoch; undefined when the key is absent. */
  readonly tatUs: number | undefined;
  /** Milliseconds until the store drops the key, when the store knows (Valkey PTTL). */
  readonly ttlMs?: number;
}

/**
 * Read and delete single keys of a store (full keys, as LimitCheck.key).
 *
 * @example Reset a client
 * ```ts
 * import { type KeyAdmin, MemoryStore } from "@spoa-gcra/spoa-gcra";
 *
 * const store = new MemoryStore({ clock: { nowUs: () => 0 } });
 * const check = { key: "rl:{192.0.2.1}:api", params: { emissionIntervalUs: 1_000_000, burstToleranceUs: 0 }, cost: 1, shadow: false };
 * store.check([check]);
 * const admin: KeyAdmin = store;
 * await admin.deleteKey(check.key);
 * console.assert(store.check([check]).allowed);
 * ```
 */
export interface KeyAdmin {
  /** Reads a key's TAT and the store's now; writes nothing, refreshes no expiry. */
  peekKey(key: string): StoredKey | Promise<StoredKey>;
  /** Deletes a key; answers the TAT it held, undefined when there was none. */
  deleteKey(key: string): number | undefined | Promise<number | undefined>;
  /** Tells every agent sharing the store that these keys were reset (shared stores only). */
  announceReset?(keys: readonly string[]): Promise<void>;
  /** Every key starting with `head` (`rl:{10.0.0.7}`: one client's keys under any limit or rate; shared stores only). */
  listKeys?(head: string): Promise<readonly string[]>;
}

/**
 * The pub/sub channel that announces reset keys to every agent sharing a Valkey, so each drops
 * its cached denial of them (deny-cache.ts): `<keyPrefix>resets`, one message per key.
 */
export function resetChannel(keyPrefix: string): string {
  return `${keyPrefix}resets`;
}

/** What a stored TAT means for one limit and one request cost, now (gcra.ts arithmetic). */
export interface KeyView {
  /** The stored TAT when it is still ahead of now; null when absent or expired (a fresh key). */
  readonly tatUs: number | null;
  /** Unit-cost requests that would pass right now. */
  readonly remaining: number;
  /** Milliseconds until the key is back to a full burst (rounded up). */
  readonly resetMs: number;
  /** Whether a request of `cost` would pass right now. */
  readonly allowed: boolean;
  /** When not allowed: milliseconds until it would pass (rounded up); 0 otherwise. */
  readonly retryAfterMs: number;
  /** The `retry_after` variable HAProxy would get: whole seconds, rounded up. */
  readonly retryAfterSeconds: number;
  /** True when the cost exceeds what the limit can ever admit at once. */
  readonly neverPasses: boolean;
}

function ceilMs(us: number): number {
  return Math.ceil(us / 1000);
}

/** Evaluates `stored` for a limit with `params` and a request of `cost`, committing nothing. */
export function keyView(params: GcraParams, cost: number, stored: StoredKey): KeyView {
  const state = { storedTat: stored.tatUs, nowUs: stored.nowUs };
  // Cost 0 is "read the state": the remaining budget and reset of the key as it stands.
  const standing = gcraStep({ params, cost: 0 }, state).result;
  const request = gcraStep({ params, cost }, state).result;
  const live = stored.tatUs !== undefined && stored.tatUs > stored.nowUs;
  return {
    tatUs: live ? stored.tatUs! : null,
    remaining: standing.remaining,
    resetMs: ceilMs(standing.resetUs),
    allowed: request.allowed,
    retryAfterMs: request.allowed ? 0 : ceilMs(request.retryAfterUs),
    retryAfterSeconds: request.allowed ? 0 : Math.ceil(request.retryAfterUs / 1_000_000),
    neverPasses: request.neverPasses,
  };
}
