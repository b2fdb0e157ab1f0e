/**
 * The one test for "answered later": handlers and stores may answer synchronously (a value)
 * or with a promise, and the hot path keeps the synchronous answer free of promises.
 * @module
 */

/** True when `value` is a promise or another thenable (a plain value, array or null never is). */
export function isPromiseLike<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as { then?: unknown } | null | undefined)?.then === "function";
}
