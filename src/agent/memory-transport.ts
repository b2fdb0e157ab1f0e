/**
 * An in-memory Transport for engine tests: records every write() as its own chunk (so a test
 * can assert "one write"), can pretend to be congested, honours pause()/resume() like a real
 * adapter (data sent while paused is held back) and simulates peer closes.
 * @module
 */
import type { ConnectionPort, Transport } from "../../src/agent/transport.ts";

/** Options of a MemoryTransport. */
export interface MemoryTransportOptions {
  readonly remoteAddress?: string;
  /** Report closed() to the engine (in a microtask, like a real socket) after end(); default true. */
  readonly closeOnEnd?: boolean;
  /** Called with each write's bytes, e.g. to feed a SpopClient. */
  readonly onWrite?: (bytes: Uint8Array) => void;
}

/** The test's side of one fake socket. */
export class MemoryTransport implements Transport {
  readonly remoteAddress: string;
  /** Each write() call's bytes, in order. */
  readonly writes: Uint8Array[] = [];
  /** What write() returns; set to false to simulate a congested socket. */
  writeResult = true;
  ended = false;
  paused = false;
  pauseCalls = 0;
  resumeCalls = 0;
  /** True once closed() has been reported to the engine. */
  closed = false;
  #port: ConnectionPort | undefined;
  readonly #held: Uint8Array[] = [];
  readonly #closeOnEnd: boolean;
  readonly #onWrite: ((bytes: Uint8Array) => void) | undefined;

  constructor(options: MemoryTransportOptions = {}) {
    this.remoteAddress = options.remoteAddress ?? "127.0.0.1:40000";
    this.#closeOnEnd = options.closeOnEnd ?? true;
    this.#onWrite = options.onWrite;
  }

  /** Connects the engine's port (the value returned by Agent.accept). */
  attach(port: ConnectionPort): this {
    this.#port = port;
    return this;
  }

  get port(): ConnectionPort {
    if (this.#port === undefined) throw new Error("MemoryTransport: attach() a port first");
    return this.#port;
  }

  // --- Transport (engine side) ---

  write(bytes: Uint8Array): boolean {
    if (this.ended || this.closed) throw new Error("MemoryTransport: write() after end()/close");
    const copy = bytes.slice();
    this.writes.push(copy);
    this.#onWrite?.(copy);
    return this.writeResult;
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.#closeOnEnd) queueMicrotask(() => this.peerClose());
  }

  pause(): void {
    this.paused = true;
    this.pauseCalls++;
  }

  resume(): void {
    this.paused = false;
    this.resumeCalls++;
    // A real adapter delivers held data later, never inside resume().
    queueMicrotask(() => this.#deliverHeld());
  }

  // --- test (peer) side ---

  /** Sends bytes from "HAProxy"; held back while the engine has paused reading. */
  send(bytes: Uint8Array): void {
    if (this.closed) return;
    if (this.paused || this.#held.length > 0) {
      this.#held.push(bytes.slice());
      return;
    }
    this.port.receive(bytes.slice());
  }

  /** Bytes sent while paused and not yet delivered. */
  get heldBytes(): number {
    return this.#held.reduce((n, c) => n + c.length, 0);
  }

  /** The socket drained its queue: clears congestion and tells the engine. */
  drain(): void {
    this.writeResult = true;
    this.port.drained();
  }

  /** The peer closed (EOF) or the socket failed (`error`). */
  peerClose(error?: unknown): void {
    if (this.closed) return;
    this.closed = true;
    this.port.closed(error);
  }

  /** Every byte written so far, concatenated. */
  output(): Uint8Array {
    const total = this.writes.reduce((n, c) => n + c.length, 0);
    const out = new Uint8Array(total);
    let at = 0;
    for (const chunk of this.writes) {
      out.set(chunk, at);
      at += chunk.length;
    }
    return out;
  }

  #deliverHeld(): void {
    while (!this.paused && !this.closed && this.#held.length > 0) {
      this.port.receive(this.#held.shift()!);
    }
  }
}
