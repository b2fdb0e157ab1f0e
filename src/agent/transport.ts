/**
 * The contract between the protocol engine and a runtime's socket adapter.
 * Adapters move bytes and report lifecycle events; they know nothing of SPOP.
 * @module
 */

/**
 * Where an adapter listens: TCP (optionally SO_REUSEPORT) or a unix socket (optionally
 * chmod'ed). The config parses its text into this; the adapters bind it.
 *
 * @example Both kinds
 * ```ts
 * import type { ListenAddress } from "@spoa-gcra/spoa-gcra";
 *
 * const addresses: ListenAddress[] = [
 *   { kind: "tcp", hostname: "0.0.0.0", port: 12345, reusePort: true },
 *   { kind: "unix", path: "/run/spoa/agent.sock", mode: 0o660 },
 * ];
 * console.assert(addresses.map((a) => a.kind).join() === "tcp,unix");
 * ```
 */
export type ListenAddress =
  | { readonly kind: "tcp"; readonly hostname: string; readonly port: number; readonly reusePort?: boolean }
  | { readonly kind: "unix"; readonly path: string; readonly mode?: number };

/**
 * What the engine needs from one accepted socket; the runtime entries implement it.
 *
 * @example An in-memory transport, e.g. for tests
 * ```ts
 * import { Agent, encodeFrame, type Transport } from "@spoa-gcra/spoa-gcra";
 * import { timers } from "@spoa-gcra/spoa-gcra/bun";
 *
 * const written: Uint8Array[] = [];
 * let ended = false;
 * const transport: Transport = { write: (bytes) => (written.push(bytes), true), end: () => (ended = true), pause() {}, resume() {}, remoteAddress: "memory" };
 * const port = new Agent({ handler: { handle: () => [], failureActions: () => [] }, timers }).accept(transport);
 * port.receive(encodeFrame({ type: "haproxy-disconnect", status: 0, message: "bye" }));
 * console.assert(written.length === 1 && ended); // our AGENT-DISCONNECT, then end()
 * port.closed();
 * ```
 */
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

/**
 * What an adapter calls on the engine for one socket: `Agent.accept` returns it.
 *
 * @example Feed received bytes in any split
 * ```ts
 * import { Agent, encodeFrame } from "@spoa-gcra/spoa-gcra";
 * import { timers } from "@spoa-gcra/spoa-gcra/bun";
 *
 * const sent: Uint8Array[] = [];
 * const agent = new Agent({ handler: { handle: () => [], failureActions: () => [] }, timers });
 * const port = agent.accept({ write: (b) => (sent.push(b), true), end() {}, pause() {}, resume() {}, remoteAddress: "memory" });
 * const hello = encodeFrame({ type: "haproxy-hello", hello: { supportedVersions: ["2.0"], maxFrameSize: 16380, capabilities: [] } });
 * port.receive(hello.slice(0, 3)); // the engine reassembles frames across chunks
 * port.receive(hello.slice(3));
 * console.assert(sent.length === 1); // the AGENT-HELLO
 * port.closed();
 * ```
 */
export interface ConnectionPort {
  /** Bytes read from the socket. Ownership passes to the engine: do not reuse `chunk`. */
  receive(chunk: Uint8Array): void;
  /** Everything queued by `write()` has reached the socket. */
  drained(): void;
  /** The socket closed (EOF, RST, EPIPE or our own `end()`); `error` when it failed. */
  closed(error?: unknown): void;
}

export type { Timers } from "./time.ts";
