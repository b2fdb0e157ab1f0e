/**
 * The socket the lean script path writes to, as a runtime provides it: the app passes the
 * runtime's own (Bun.connect, Deno.connect, node:net; src/runtime/dial.ts), and a library user
 * who passes none gets node:net (node-dial.ts), which all three runtimes implement.
 * @module
 */

/** Where a dialed socket delivers what happens to it. */
export interface DialSink {
  /** Bytes read; ownership passes to the sink. */
  data(chunk: Uint8Array): void;
  /** The socket is gone (EOF, reset, or our close); called once. */
  closed(error?: unknown): void;
}

/** An open client socket. */
export interface DialedSocket {
  /** Queues `bytes` in order; never splits or interleaves two calls' bytes. */
  write(bytes: Uint8Array): void;
  /** Closes now; queued bytes may be dropped. */
  close(): void;
}

/** Opens a TCP connection to `host:port` with TCP_NODELAY; rejects when it cannot connect. */
export type Dialer = (target: { readonly host: string; readonly port: number }, sink: DialSink) => Promise<DialedSocket>;
