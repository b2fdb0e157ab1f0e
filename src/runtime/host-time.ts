/**
 * Host time for the pure core, which only sees injected clocks and timers.
 * @module
 */
import type { Timers } from "../agent/transport.ts";

/**
 * Wall clock in µs for the limiter (the Valkey script uses the server's clock instead).
 * Shaped like ratelimit's `Clock`, which this layer may not import.
 */
export const systemClock: { readonly nowUs: () => number } = { nowUs: () => Date.now() * 1000 };

/** Monotonic µs with sub-millisecond resolution, for measuring durations (not a time of day). */
export const monotonicClock: { readonly nowUs: () => number } = { nowUs: () => performance.now() * 1000 };

/** Host timers for the core. */
export const systemTimers: Timers = {
  schedule: (callback, ms) => setTimeout(callback, ms),
  cancel: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};
