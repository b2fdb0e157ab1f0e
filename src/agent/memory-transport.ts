/**
 * An in-memory Transport for testing an agent without sockets or HAProxy: records every
 * write() as its own chunk (so a test can assert "one write"), can pretend to be congested,
 * honours pause()/resume() like a real adapter (data sent while paused is held back) and
 * simulates peer closes. Pure: it uses no timer or host API, so it runs on every runtime.
 * @module
 */
import type { ConnectionPort, Transport } from "./transport.ts";

/**
 * Options of a MemoryTransport.
 *
 * @example A transport that reports a peer address and stays open after end()
 * ```ts
 * import { MemoryTransport, type MemoryTransportOptions } from "@spoa-gcra/spoa-gcra/testing";
 *
 * const options: MemoryTransportOptions = { remoteAddress: "192.0.2.1:50000", closeOnEnd: false };
 * console.assert(new MemoryTransport(options).remoteAddress === "192.0.2.1:50000");
 * ```
 */
export interface MemoryTransportOptions {
  readonly remoteAddress?: string;
  /** Report closed() to the engine (in a microtask, like a real socket) after end(); default true. */
  readonly closeOnEnd?: boolean;
  /** Called with each write's bytes, e.g. to feed a SpopClient. */
  readonly onWrite?: (bytes: Uint8Array) => void;
}

/**
 * One fake socket between a test (playing HAProxy) and the engine. `Agent.accept(transport)`
 * returns the port the test `attach()`es; `send()` delivers bytes to the engine, `writes` holds
 * what the engine wrote.
 *
 * @example Feed a HELLO in, read the AGENT-HELLO out
 * ```ts
 * import { Agent, decodeFrame } from "@spoa-gcra/spoa-gcra";
 * import { timers } from "@spoa-gcra/spoa-gcra/bun";
 * import { MemoryTransport, RUNTIME_HELLO, SpopClient } from "@spoa-gcra/spoa-gcra/testing";
 *
 * const agent = new Agent({ handler: { handle: () => [], failureActions: () => [] }, timers });
 * const transport = new MemoryTransport();
 * transport.attach(agent.accept(transport));
 * new SpopClient((bytes) => transport.send(bytes)).hello();
 * const reply = decodeFrame(transport.output());
 * console.assert(reply.type === "agent-hello" && reply.hello.maxFrameSize === RUNTIME_HELLO.maxFrameSize);
 * ```
 */
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

  /**
   * A fresh, open transport.
   * @param options Peer address, whether end() closes, and a write observer.
   */
  constructor(options: MemoryTransportOptions = {}) {
    this.remoteAddress = options.remoteAddress ?? "127.0.0.1:40000";
    this.#closeOnEnd = options.closeOnEnd ?? true;
    this.#onWrite = options.onWrite;
  }

  /**
   * Connects the engine's port (the value returned by Agent.accept).
   * @param port What `agent.accept(this)` returned.
   * @returns This transport, for chaining.
   */
  attach(port: ConnectionPort): this {
    this.#port = port;
    return this;
  }

  get port(): ConnectionPort {
    if (this.#port === undefined) throw new Error("MemoryTransport: attach() a port first");
    return this.#port;
  }

  // --- Transport (engine side) ---

  /**
   * The engine writes: the bytes are copied and recorded as one chunk.
   * @param bytes One or more whole frames.
   * @returns `writeResult`: false pretends the socket is congested.
   */
  write(bytes: Uint8Array): boolean {
    if (this.ended || this.closed) throw new Error("MemoryTransport: write() after end()/close");
    const copy = bytes.slice();
    this.writes.push(copy);
    this.#onWrite?.(copy);
    return this.writeResult;
  }

  /** The engine closes its side; the peer close follows in a microtask unless `closeOnEnd` is false. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.#closeOnEnd) queueMicrotask(() => this.peerClose());
  }

  /** The engine stops reading: data sent from now on is held back. */
  pause(): void {
    this.paused = true;
    this.pauseCalls++;
  }

  /** The engine reads again: held data is delivered in a later microtask, as a socket would. */
  resume(): void {
    this.paused = false;
    this.resumeCalls++;
    // A real adapter delivers held data later, never inside resume().
    queueMicrotask(() => this.#deliverHeld());
  }

  // --- test (peer) side ---

  /**
   * Sends bytes from "HAProxy"; held back while the engine has paused reading.
   * @param bytes Any slice of the byte stream: whole frames, several, or part of one.
   */
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

  /**
   * The peer closed (EOF) or the socket failed (`error`).
   * @param error The socket error, if it failed rather than closed.
   */
  peerClose(error?: unknown): void {
    if (this.closed) return;
    this.closed = true;
    this.port.closed(error);
  }

  /**
   * Every byte written so far, concatenated.
   * @returns A copy of the whole output stream.
   */
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
