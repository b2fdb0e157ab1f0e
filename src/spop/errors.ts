/**
 * The one error class of the SPOP codec: every wire error carries the DISCONNECT status
 * (spop-protocol.md §6) the engine answers with, plus a stable metric code.
 * @module
 */
import { DisconnectStatus, type DisconnectStatusCode } from "./types.ts";

/** Stable snake_case metric codes, one per DISCONNECT status (§6). */
export const SPOP_ERROR_CODES: Readonly<Record<DisconnectStatusCode, string>> = {
  0: "normal",
  1: "io_error",
  2: "timeout",
  3: "frame_too_big",
  4: "invalid_frame",
  5: "no_version",
  6: "no_max_frame_size",
  7: "no_capabilities",
  8: "bad_version",
  9: "bad_frame_size",
  10: "fragmentation_not_supported",
  11: "interlaced_frames",
  12: "frame_id_not_found",
  13: "resource_allocation",
  99: "unknown",
};

/**
 * A protocol error that maps to a DISCONNECT status code: the engine answers it with
 * AGENT-DISCONNECT and that status.
 *
 * @example Reject a truncated frame
 * ```ts
 * import { decodeFrame, DisconnectStatus, SpopError } from "@spoa-gcra/spoa-gcra";
 *
 * let error: unknown;
 * try {
 *   decodeFrame(new Uint8Array([0, 0, 0, 9, 1]));
 * } catch (e) {
 *   error = e;
 * }
 * console.assert(error instanceof SpopError && error.status === DisconnectStatus.INVALID && error.code === "invalid_frame");
 * ```
 */
export class SpopError extends Error {
  /** The DISCONNECT status this error maps to. */
  readonly status: DisconnectStatusCode;
  /** Stable snake_case metric code derived from the status. */
  readonly code: string;

  /**
   * @param status The DISCONNECT status to answer with.
   * @param message What was wrong, for logs.
   * @param options The underlying error as `cause`.
   */
  constructor(status: DisconnectStatusCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "SpopError";
    this.status = status;
    this.code = SPOP_ERROR_CODES[status] ?? "unknown";
  }
}

/** Shorthand for the most common error: status 4 "invalid frame received". */
export function invalidFrame(message: string, options?: { cause?: unknown }): SpopError {
  return new SpopError(DisconnectStatus.INVALID, `Cannot decode frame: ${message}`, options);
}
