/**
 * The Bun adapter: `Bun.listen` sockets behind the engine's Transport (HTTP: bun-http.ts).
 * Moves bytes and lifecycle events only; no SPOP knowledge.
 * @module
 */
import type { ConnectionPort, Transport } from "../agent/transport.ts";
import type { ListenAddress } from "../agent/transport.ts";
import type { AcceptHandler, Listener, RuntimeAdapter } from "./types.ts";
import { type BunSocket, type BunSocketHandler, bunGlobal } from "./bun-api.ts";
import { serveHttp } from "./bun-http.ts";
import { isNormalCloseError } from "./errors.ts";
import { describeAddress, listenFailed } from "./listen-address.ts";
import { applySocketMode, clearStaleSocket } from "./unix-path.ts";

/**
 * One accepted socket. Bun's `write()` does not buffer (engineering-notes B2), so the unaccepted
 * rest waits here and leaves from `drain`; later writes queue behind it to keep order.
 */
class BunConnection implements Transport {
  readonly remoteAddress: string;
  port: ConnectionPort | undefined;
  #socket: BunSocket<BunConnection>;
  #queue: Uint8Array[] = [];
  #held: Uint8Array[] = [];
  #paused = false;
  #ending = false;
  #closed = false;
  #error: unknown;

  constructor(socket: BunSocket<BunConnection>, remoteAddress: string) {
    this.#socket = socket;
    this.remoteAddress = remoteAddress;
  }

  write(bytes: Uint8Array): boolean {
    if (this.#closed || this.#ending) return false;
    if (this.#queue.length > 0) {
      this.#queue.push(bytes);
      return false;
    }
    const written = this.#socket.write(bytes);
    if (written === bytes.length) return true;
    if (written < 0) {
      // The socket is already gone (the peer reset it). Bun usually reports `close` later, but
      // not always once the engine has paused the socket in reply to this failed write (a reset
      // right after HELLO left ~1 in 20 connections open forever), so report it ourselves,
      // outside the engine's stack; onClose ignores Bun's own report if it comes.
      queueMicrotask(() => this.onClose(undefined));
      return false;
    }
    this.#queue.push(written === 0 ? bytes : bytes.subarray(written));
    return false;
  }

  end(): void {
    if (this.#ending || this.#closed) return;
    this.#ending = true;
    // A paused Bun socket holds the peer's EOF back (tests/runtime/bun-facts.test.ts); read again
    // so closed() cannot wait on resume(), but keep holding (and finally dropping) new data.
    if (this.#paused) this.#socket.resume?.();
    if (this.#queue.length === 0) this.#socket.end();
  }

  pause(): void {
    this.#paused = true;
    this.#socket.pause?.();
  }

  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#socket.resume?.();
    // Deliver held chunks outside the caller's stack: resume() is called from inside the engine.
    if (this.#held.length > 0) queueMicrotask(() => this.#release());
  }

  /** `data` event: Bun hands us a fresh buffer per event (verified), so no copy is made. */
  onData(chunk: Uint8Array): void {
    if (this.#paused || this.#held.length > 0) this.#held.push(chunk);
    else this.port?.receive(chunk);
  }

  /** `drain` event: send the queued rest in order, then tell the engine. */
  onDrain(): void {
    if (this.#queue.length === 0 || this.#closed) return;
    while (this.#queue.length > 0) {
      const head = this.#queue[0];
      const written = this.#socket.write(head);
      if (written < 0) return;
      if (written < head.length) {
        this.#queue[0] = head.subarray(written);
        return;
      }
      this.#queue.shift();
    }
    if (this.#ending) this.#socket.end();
    this.port?.drained();
  }

  onError(error: Error): void {
    this.#error ??= error;
  }

  onClose(error: Error | undefined): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue = [];
    this.#held = [];
    const failure = error ?? this.#error;
    this.port?.closed(failure === undefined || isNormalCloseError(failure) ? undefined : failure);
  }

  #release(): void {
    while (this.#held.length > 0 && !this.#paused && !this.#closed) {
      this.port?.receive(this.#held.shift() as Uint8Array);
    }
  }
}

/** One handler object per listener, shared by all its sockets (engineering-notes B1). */
function socketHandler(accept: AcceptHandler, unix: boolean): BunSocketHandler<BunConnection> {
  return {
    binaryType: "uint8array",
    open(socket) {
      const remote = unix ? "unix" : `${socket.remoteAddress}:${socket.remotePort ?? 0}`;
      const connection = new BunConnection(socket, remote);
      socket.data = connection;
      connection.port = accept(connection);
    },
    data: (socket, chunk) => socket.data.onData(chunk),
    drain: (socket) => socket.data.onDrain(),
    error: (socket, error) => socket.data?.onError(error),
    close: (socket, error) => socket.data?.onClose(error),
  };
}

async function listenSpop(address: ListenAddress, accept: AcceptHandler): Promise<Listener> {
  const Bun = bunGlobal();
  if (address.kind === "unix") clearStaleSocket(address.path);
  const socket = socketHandler(accept, address.kind === "unix");
  let listener;
  try {
    listener = address.kind === "tcp"
      ? Bun.listen({ hostname: address.hostname, port: address.port, reusePort: address.reusePort, socket })
      : Bun.listen({ unix: address.path, socket });
  } catch (cause) {
    throw listenFailed(address, cause);
  }
  if (address.kind === "unix") applySocketMode(address.path, address.mode);
  const port = listener.port ?? 0;
  return {
    address: describeAddress(address, port),
    port,
    close: async () => {
      listener.stop(false);
      if (address.kind === "unix") clearStaleSocket(address.path);
    },
  };
}

/** The Bun runtime adapter. */
export const bunAdapter: RuntimeAdapter = { name: "bun", listenSpop, serveHttp };
