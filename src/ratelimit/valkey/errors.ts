/**
 * The Valkey store's one error class.
 * @module
 */

/**
 * What went wrong talking to Valkey; `code` is stable (metrics, the failure policy).
 *
 * @example Retry only what may pass
 * ```ts
 * import { type ValkeyErrorCode, ValkeyStoreError } from "@spoa-gcra/spoa-gcra/valkey";
 *
 * const transient: ReadonlySet<ValkeyErrorCode> = new Set(["timeout", "unavailable"]);
 * console.assert(transient.has(new ValkeyStoreError("unavailable", "connection refused").code));
 * ```
 */
export type ValkeyErrorCode = "timeout" | "unavailable" | "reply" | "closed" | "config";

/**
 * An error of the Valkey store. `code: "timeout"` marks a decision past its deadline.
 *
 * @example Tell a timeout from a refused connection
 * ```ts
 * import { ValkeyStoreError } from "@spoa-gcra/spoa-gcra/valkey";
 *
 * const error = new ValkeyStoreError("timeout", "no reply within 10 ms");
 * console.assert(error instanceof Error && error.code === "timeout" && error.answered === undefined);
 * ```
 */
export class ValkeyStoreError extends Error {
  /** Stable machine-readable kind. */
  readonly code: ValkeyErrorCode;
  /** A timeout only: resolves if the reply comes after all (Valkey is slow, not gone). */
  readonly answered?: Promise<void>;

  /**
   * @param code The stable kind.
   * @param message What failed.
   * @param options The underlying error as `cause`; for a timeout, `answered` settles if the reply comes after all.
   */
  constructor(code: ValkeyErrorCode, message: string, options?: { cause?: unknown; answered?: Promise<void> }) {
    super(message, options);
    this.name = "ValkeyStoreError";
    this.code = code;
    if (options?.answered !== undefined) this.answered = options.answered;
  }
}

/** The message of any thrown value, for logs (never includes connection options). */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

// "queue is full": node-redis refuses new commands while its bounded queue is full (overload, not a bad reply).
const TRANSIENT = /offline|closed|ECONN|EPIPE|socket|CLUSTERDOWN|LOADING|READONLY|MASTERDOWN|TRYAGAIN|not ready|connection|queue is full/i;

/** Any failed call as the store's error: "unavailable" when the connection is the trouble, else "reply". */
export function asStoreError(error: unknown): ValkeyStoreError {
  if (error instanceof ValkeyStoreError) return error;
  const message = errorMessage(error);
  return new ValkeyStoreError(TRANSIENT.test(message) ? "unavailable" : "reply", `Valkey call failed: ${message}`, { cause: error });
}
