/**
 * The socket the lean script path writes to, as a runtime provides it: the app passes the
 * runtime's own (Bun.connect, Deno.connect, node:net; src/runtime/dial.ts), and a library user
 * who passes none gets node:net (node-dial.ts), which all three runtimes implement.
 * @module
 */

/**
 * Where a dialed socket delivers what happens to it.
 *
 * @example A sink that keeps what arrives
 * ```ts
 * import type { DialSink } from "@spoa-gcra/spoa-gcra/valkey";
 *
 * const chunks: Uint8Array[] = [];
 * let gone = false;
 * const sink: DialSink = { data: (chunk) => void chunks.push(chunk), closed: () => void (gone = true) };
 * sink.data(new TextEncoder().encode("+PONG\r\n"));
 * sink.closed();
 * console.assert(chunks.length === 1 && gone);
 * ```
 */
export interface DialSink {
  /** Bytes read; ownership passes to the sink. */
  data(chunk: Uint8Array): void;
  /** The socket is gone (EOF, reset, or our close); called once. */
  closed(error?: unknown): void;
}

/**
 * An open client socket.
 *
 * @example A loopback socket that answers every write into its sink (for tests)
 * ```ts
 * import type { DialedSocket, DialSink } from "@spoa-gcra/spoa-gcra/valkey";
 *
 * const received: Uint8Array[] = [];
 * const sink: DialSink = { data: (chunk) => void received.push(chunk), closed: () => {} };
 * const socket: DialedSocket = { write: (bytes) => sink.data(bytes), close: () => sink.closed() };
 * socket.write(new TextEncoder().encode("PING\r\n"));
 * socket.close();
 * console.assert(received.length === 1);
 * ```
 */
export interface DialedSocket {
  /** Queues `bytes` in order; never splits or interleaves two calls' bytes. */
  write(bytes: Uint8Array): void;
  /** Closes now; queued bytes may be dropped. */
  close(): void;
}

/**
 * Opens a TCP connection to `host:port` with TCP_NODELAY; rejects when it cannot connect.
 *
 * @example A dialer that counts connection attempts around another one
 * ```ts
 * import type { Dialer } from "@spoa-gcra/spoa-gcra/valkey";
 *
 * let attempts = 0;
 * const counting = (inner: Dialer): Dialer => (target, sink) => {
 *   attempts += 1;
 *   return inner(target, sink);
 * };
 * const refusing: Dialer = (target) => Promise.reject(new Error(`${target.host}:${target.port} refused`));
 * const failed = await counting(refusing)({ host: "127.0.0.1", port: 1 }, { data: () => {}, closed: () => {} }).then(() => false, () => true);
 * console.assert(attempts === 1 && failed);
 * ```
 */
export type Dialer = (target: { readonly host: string; readonly port: number }, sink: DialSink) => Promise<DialedSocket>;
