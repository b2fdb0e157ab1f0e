/**
 * The shape of outbound TCP a runtime provides (dial.ts picks the runtime's; the Valkey store's
 * lean script path declares the same shape in src/ratelimit/valkey/pipeline/dial.ts).
 * @module
 */

/** Where a dialed socket delivers bytes and its end. */
export interface OutboundSink {
  data(chunk: Uint8Array): void;
  closed(error?: unknown): void;
}

/** An open client socket: ordered writes, close now. */
export interface OutboundSocket {
  write(bytes: Uint8Array): void;
  close(): void;
}

/** Connects to host:port with TCP_NODELAY; rejects when it cannot. */
export type OutboundDialer = (target: { readonly host: string; readonly port: number }, sink: OutboundSink) => Promise<OutboundSocket>;
