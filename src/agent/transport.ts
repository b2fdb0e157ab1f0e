/**
 * The contract between the protocol engine and a runtime's socket adapter.
 * Adapters move bytes and report lifecycle events; they know nothing of SPOP.
 * @module
 */

/**
 * Where an adapter listens: TCP (optionally SO_REUSEPORT) or a unix socket (optionally
 * chmod'ed). The config parses its text into this; the adapters bind it.
 */
export type ListenAddress =
  | { readonly kind: "tcp"; readonly hostname: string; readonly port: number; readonly reusePort?: boolean }
  | { readonly kind: "unix"; readonly path: string; readonly mode?: number };

/** What the engine needs from one accepted socket. */
export interface Transport {
  /**
   * Send bytes. The adapter must send them in order and must never interleave two calls'
   * bytes. Returns false when the socket is congested: the adapter keeps the unsent rest
   * and calls `ConnectionPort.drained()` once everything queued has been written.
   * The engine hands over ownership of `bytes` (it will not reuse the buffer).
   */
  write(bytes: Uint8Array): boolean;
  /** Close gracefully after everything written so far has been sent. Idempotent. */
  end(): void;
  /** Stop delivering `receive()` calls until `resume()` (read backpressure). */
  pause(): void;
  /** Resume delivering data after `pause()`. */
  resume(): void;
  /** The peer, for logs ("127.0.0.1:41234" or "unix"). */
  readonly remoteAddress: string;
}

/** What an adapter calls on the engine for one socket. */
export interface ConnectionPort {
  /** Bytes read from the socket. Ownership passes to the engine: do not reuse `chunk`. */
  receive(chunk: Uint8Array): void;
  /** Everything queued by `write()` has reached the socket. */
  drained(): void;
  /** The socket closed (EOF, RST, EPIPE or our own `end()`); `error` when it failed. */
  closed(error?: unknown): void;
}

/** Timers injected into the core, so the core never touches a host timer API directly. */
export interface Timers {
  /** Runs `callback` once after `ms` milliseconds; returns a handle for `cancel`. */
  schedule(callback: () => void, ms: number): unknown;
  /** Cancels a scheduled callback that has not run yet. */
  cancel(handle: unknown): void;
}
