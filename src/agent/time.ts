/**
 * The one time vocabulary of the code: a microsecond `Clock` to read and `Timers` to schedule.
 * The pure core never touches a host clock or timer; the runtime layer injects both
 * (runtime/host-time.ts) and tests pass their own.
 * @module
 */

/**
 * Microsecond wall clock, injected so the core never reads a host clock itself. The runtime
 * entries export `clock`; a test can pass its own.
 *
 * @example A clock a test moves
 * ```ts
 * import { type Clock, MemoryStore } from "@spoa-gcra/spoa-gcra";
 *
 * let nowUs = 0;
 * const clock: Clock = { nowUs: () => nowUs };
 * const store = new MemoryStore({ clock });
 * const check = { key: "k", params: { emissionIntervalUs: 1_000_000, burstToleranceUs: 0 }, cost: 1, shadow: false };
 * console.assert(store.check([check]).allowed && !store.check([check]).allowed);
 * nowUs += 1_000_000;
 * console.assert(store.check([check]).allowed);
 * ```
 */
export interface Clock {
  nowUs(): number;
}

/**
 * Timers injected into the core, so the core never touches a host timer API directly.
 * The runtime entries export `timers`; tests can pass a manual clock.
 *
 * @example Timers a test advances by hand
 * ```ts
 * import type { Timers } from "@spoa-gcra/spoa-gcra";
 *
 * const due: (() => void)[] = [];
 * const manual: Timers = { schedule: (callback) => due.push(callback), cancel: () => {} };
 * let fired = 0;
 * manual.schedule(() => fired++, 10_000);
 * due.splice(0).forEach((callback) => callback()); // "ten seconds later"
 * console.assert(fired === 1);
 * ```
 */
export interface Timers {
  /** Runs `callback` once after `ms` milliseconds; returns a handle for `cancel`. */
  schedule(callback: () => void, ms: number): unknown;
  /** Cancels a scheduled callback that has not run yet. */
  cancel(handle: unknown): void;
}
