/**
 * The Node.js adapter: `node:net` sockets behind the engine's Transport (HTTP: node-http.ts).
 * Moves bytes and lifecycle events only; no SPOP knowledge. Also runs under Bun and Deno's
 * node:net, but there their own adapters are the faster choice.
 * @module
 */
import { createServer, type Socket } from "node:net";
import type { ConnectionPort, ListenAddress, Transport } from "../agent/transport.ts";
import type { AcceptHandler, Listener, ListenOptions, RuntimeAdapter } from "./types.ts";
import { isNormalCloseError } from "./errors.ts";
import { serveHttp } from "./node-http.ts";
import { bind, listenerOf } from "./node-listen.ts";

// After our FIN has left, wait this long for the peer's EOF: a half-open peer must not pin the socket.
const LINGER_MS = 2_000;

/**
 * One accepted socket. Node's `write()` always takes the whole buffer (so a frame is never split)
 * and queues what the kernel refuses; its `false` return and the `drain` event are our congestion
 * signal. `pause()` is exact: a paused stream buffers instead of emitting `data`.
 */
class NodeConnection implements Transport {
  readonly remoteAddress: string;
  port: ConnectionPort | undefined;
  #socket: Socket;
  #congested = false;
  #ending = false;
  #closed = false;
  #error: unknown;
  #linger: ReturnType<typeof setTimeout> | undefined;

  constructor(socket: Socket, unix: boolean) {
    this.#socket = socket;
    this.remoteAddress = unix ? "unix" : `${socket.remoteAddress}:${socket.remotePort ?? 0}`;
    // A no-op on unix sockets; on TCP it keeps small ACKs from waiting for Nagle.
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => this.#onData(chunk));
    socket.on("drain", () => this.#onDrain());
    socket.on("error", (error) => (this.#error ??= error));
    socket.on("close", () => this.#onClose());
  }

  write(bytes: Uint8Array): boolean {
    // After a peer EOF Node ends our side itself; writing then would raise "write after end".
    if (this.#closed || this.#ending || !this.#socket.writable) return false;
    if (this.#socket.write(bytes)) return true;
    this.#congested = true;
    return false;
  }

  end(): void {
    if (this.#ending || this.#closed) return;
    this.#ending = true;
    // A paused socket never sees the peer's EOF, so read again; #onData drops what arrives.
    this.#socket.resume();
    this.#socket.end(() => {
      if (!this.#closed) this.#linger = setTimeout(() => this.#socket.destroy(), LINGER_MS);
    });
  }

  pause(): void {
    if (!this.#ending) this.#socket.pause();
  }

  resume(): void {
    // Node re-emits buffered data on a later tick, never inside the engine's resume() call.
    if (!this.#ending) this.#socket.resume();
  }

  #onData(chunk: Buffer): void {
    if (this.#ending || this.#closed) return;
    // A plain Uint8Array view: Buffer's slice() shares memory where Uint8Array's copies.
    this.port?.receive(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
  }

  #onDrain(): void {
    if (!this.#congested || this.#closed) return;
    this.#congested = false;
    this.port?.drained();
  }

  #onClose(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#linger);
    const failure = this.#error;
    this.port?.closed(failure === undefined || isNormalCloseError(failure) ? undefined : failure);
  }
}

async function listenSpop(address: ListenAddress, accept: AcceptHandler, options: ListenOptions = {}): Promise<Listener> {
  const unix = address.kind === "unix";
  // allowHalfOpen false: a peer's EOF ends our side once queued bytes are out, like Bun and Deno.
  const server = createServer({ allowHalfOpen: false }, (socket) => {
    const connection = new NodeConnection(socket, unix);
    connection.port = accept(connection);
  });
  await bind(server, address);
  // EMFILE and the like: report and keep serving; Node retries accept by itself.
  server.on("error", (error) => options.onAcceptError === undefined ? console.error(`spoa-gcra: accept failed: ${String(error)}`) : options.onAcceptError(error));
  // close() without a callback: open connections are left to the engine's drain.
  return listenerOf(server, address, () => server.close());
}

/** The Node.js runtime adapter. */
export const nodeAdapter: RuntimeAdapter = { name: "node", listenSpop, serveHttp };
