/**
 * Host time for the pure core, which only sees injected clocks and timers.
 * @module
 */
import type { Clock, Timers } from "../agent/time.ts";

/**
 * Wall clock in µs for the limiter (the Valkey script uses the server's clock instead).
 *
 * @example The clock a MemoryStore needs
 * ```ts
 * import { MemoryStore } from "@spoa-gcra/spoa-gcra";
 * import { clock } from "@spoa-gcra/spoa-gcra/bun";
 *
 * const store = new MemoryStore({ clock });
 * console.assert(Math.abs(clock.nowUs() / 1000 - Date.now()) < 1000 && store.size === 0);
 * ```
 */
export const systemClock: Clock = { nowUs: () => Date.now() * 1000 };

/** Monotonic µs with sub-millisecond resolution, for measuring durations (not a time of day). */
export const monotonicClock: Clock = { nowUs: () => performance.now() * 1000 };

/**
 * Host timers for the core (`setTimeout`/`clearTimeout`), which never touches them itself.
 *
 * @example The timers an Agent needs
 * ```ts
 * import { timers } from "@spoa-gcra/spoa-gcra/bun";
 *
 * let fired = false;
 * timers.cancel(timers.schedule(() => (fired = true), 1));
 * await new Promise((resolve) => timers.schedule(() => resolve(undefined), 5));
 * console.assert(!fired);
 * ```
 */
export const systemTimers: Timers = {
  schedule: (callback, ms) => setTimeout(callback, ms),
  cancel: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};
