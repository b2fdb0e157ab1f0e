/**
 * The runtime layer's error class.
 * @module
 */

/**
 * Stable codes for runtime adapter failures.
 *
 * @example Explain a failure
 * ```ts
 * import { RuntimeAdapterError, type RuntimeErrorCode } from "@spoa-gcra/spoa-gcra/bun";
 *
 * const hint: Partial<Record<RuntimeErrorCode, string>> = { "listen-failed": "is the port taken?" };
 * const error = new RuntimeAdapterError("listen-failed", "Cannot listen on 127.0.0.1:80");
 * console.assert(hint[error.code] === "is the port taken?");
 * ```
 */
export type RuntimeErrorCode = "unix-path-not-socket" | "reuse-port-unavailable" | "listen-failed" | "unsupported-runtime";

/**
 * A runtime adapter could not do what was asked (listen, bind, spawn).
 *
 * @example Tell a taken port from other failures
 * ```ts
 * import { adapter, RuntimeAdapterError } from "@spoa-gcra/spoa-gcra/bun";
 *
 * const noop = { receive() {}, drained() {}, closed() {} };
 * const first = await adapter.listenSpop({ kind: "tcp", hostname: "127.0.0.1", port: 0 }, () => noop);
 * const second = await adapter.listenSpop({ kind: "tcp", hostname: "127.0.0.1", port: first.port }, () => noop).catch((e) => e);
 * console.assert(second instanceof RuntimeAdapterError && second.code === "listen-failed");
 * await first.close();
 * ```
 */
export class RuntimeAdapterError extends Error {
  override readonly name = "RuntimeAdapterError";
  /** Stable code for logs and metrics. */
  readonly code: RuntimeErrorCode;

  /**
   * @param code The stable code.
   * @param message What failed and what to do about it.
   * @param options The underlying error as `cause`.
   */
  constructor(code: RuntimeErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** True for the error codes a peer's RST, EOF or our own close produce: a normal close, not a failure. */
export function isNormalCloseError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string" && NORMAL_CODES.has(code)) return true;
  return NORMAL_NAMES.has(error.name);
}

const NORMAL_CODES = new Set(["ECONNRESET", "EPIPE", "ECONNABORTED", "ENOTCONN"]);
// Deno.errors class names (engineering-notes D6).
const NORMAL_NAMES = new Set(["ConnectionReset", "BrokenPipe", "ConnectionAborted", "BadResource", "NotConnected"]);
