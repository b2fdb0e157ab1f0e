/**
 * The SPOP agent: accepts transports, owns their connections, enforces the global in-flight
 * cap and runs the graceful drain.
 * @module
 */
import { DEFAULT_FRAME_SIZE, MIN_FRAME_SIZE } from "../spop/types.ts";
import { Connection, type ConnectionHost } from "./connection.ts";
import { type AgentEvents, type CloseReason, type SafeEvents, safeEvents } from "./events.ts";
import type { NotifyHandler } from "./handler.ts";
import type { ConnectionPort, Timers, Transport } from "./transport.ts";

export type { AgentEvents, CloseReason } from "./events.ts";

/** Largest max-frame-size we accept as an option: the LENGTH field is 32-bit, buffers are not. */
export const MAX_FRAME_SIZE_LIMIT = 16 * 1024 * 1024;
const DEFAULT_HELLO_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_IN_FLIGHT = 10_000;
const DEFAULT_DRAIN_GRACE_MS = 10_000;
/** Reading resumes at 90 % of the cap, so a busy agent does not flap between pause and resume. */
const RESUME_RATIO = 0.9;

/**
 * Configuration of an Agent.
 *
 * @example Tighter limits and a log of handler failures
 * ```ts
 * import { Agent, type AgentOptions, setVar } from "@spoa-gcra/spoa-gcra";
 * import { timers } from "@spoa-gcra/spoa-gcra/bun";
 *
 * const options: AgentOptions = {
 *   handler: { handle: () => [setVar("txn", "ok", true)], failureActions: () => [] },
 *   timers,
 *   helloTimeoutMs: 2_000,
 *   maxInFlight: 5_000,
 *   events: { handlerFailed: (id, error) => console.error(`connection ${id}: ${String(error)}`) },
 * };
 * console.assert(new Agent(options).inFlight === 0);
 * ```
 */
export interface AgentOptions {
  readonly handler: NotifyHandler;
  readonly timers: Timers;
  /** Our max-frame-size and hard cap for received frames; default 16380, range [256, 16 MiB]. */
  readonly maxFrameSize?: number;
  /** A connection without a completed HELLO by then gets AGENT-DISCONNECT 2; default 10000. */
  readonly helloTimeoutMs?: number;
  /** Global cap on NOTIFYs being handled; when reached every connection stops reading; default 10000. */
  readonly maxInFlight?: number;
  readonly events?: AgentEvents;
}

/**
 * Options of Agent.drain().
 *
 * @example Drain on SIGTERM within Kubernetes' grace period
 * ```ts
 * import { Agent, type DrainOptions } from "@spoa-gcra/spoa-gcra";
 * import { timers } from "@spoa-gcra/spoa-gcra/bun";
 *
 * const agent = new Agent({ handler: { handle: () => [], failureActions: () => [] }, timers });
 * const options: DrainOptions = { graceMs: 20_000 };
 * await agent.drain(options); // no connections: resolves at once
 * console.assert(agent.connectionCount === 0);
 * ```
 */
export interface DrainOptions {
  /** Give up waiting after this long and end the remaining transports; default 10000. */
  readonly graceMs?: number;
}

/** The port handed out after drain(): the transport is already ended, input is ignored. */
const CLOSED_PORT: ConnectionPort = Object.freeze({
  receive(): void {},
  drained(): void {},
  closed(): void {},
});

function checkInteger(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`Cannot create Agent: ${name} ${value} is not an integer in [${min}, ${max}]`);
  }
  return value;
}

/**
 * An SPOP agent serving any number of HAProxy connections with one NotifyHandler: it answers
 * HELLO, decodes NOTIFY frames, calls the handler and sends each ACK, caps the NOTIFYs in
 * flight and drains gracefully.
 *
 * @example Answer a HELLO and a NOTIFY over an in-memory transport
 * ```ts
 * import { Agent, decodeFrame, encodeFrame, setVar, type Transport } from "@spoa-gcra/spoa-gcra";
 * import { timers } from "@spoa-gcra/spoa-gcra/bun";
 *
 * const agent = new Agent({ handler: { handle: () => [setVar("txn", "seen", true)], failureActions: () => [] }, timers });
 * const sent: Uint8Array[] = [];
 * const transport: Transport = { write: (b) => (sent.push(b), true), end() {}, pause() {}, resume() {}, remoteAddress: "test" };
 * const port = agent.accept(transport);
 * port.receive(encodeFrame({ type: "haproxy-hello", hello: { supportedVersions: ["2.0"], maxFrameSize: 16380, capabilities: ["pipelining"] } }));
 * port.receive(encodeFrame({ type: "notify", streamId: 1, frameId: 1, messages: [{ name: "check", args: [] }] }));
 * const frames = Buffer.concat(sent);
 * const ack = decodeFrame(frames.subarray(frames.readUInt32BE(0) + 4));
 * console.assert(ack.type === "ack" && ack.actions[0].name === "seen");
 * port.closed();
 * ```
 */
export class Agent {
  readonly #host: ConnectionHost;
  readonly #timers: Timers;
  readonly #events: SafeEvents;
  readonly #maxInFlight: number;
  readonly #resumeAt: number;
  readonly #connections = new Set<Connection>();
  #nextId = 1;
  #inFlight = 0;
  #readPaused = false;
  #drain: Promise<void> | undefined;
  #drainDone: (() => void) | undefined;

  /**
   * @param options The handler, the host timers and the limits (frame size, HELLO timeout, NOTIFYs in flight).
   * @throws {RangeError} When a limit is not an integer in its range.
   */
  constructor(options: AgentOptions) {
    const maxFrameSize = checkInteger(
      "maxFrameSize",
      options.maxFrameSize ?? DEFAULT_FRAME_SIZE,
      MIN_FRAME_SIZE,
      MAX_FRAME_SIZE_LIMIT,
    );
    const helloTimeoutMs = checkInteger(
      "helloTimeoutMs",
      options.helloTimeoutMs ?? DEFAULT_HELLO_TIMEOUT_MS,
      1,
      2 ** 31 - 1,
    );
    this.#maxInFlight = checkInteger("maxInFlight", options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT, 1, 2 ** 31 - 1);
    this.#resumeAt = Math.floor(this.#maxInFlight * RESUME_RATIO);
    this.#timers = options.timers;
    this.#events = safeEvents(options.events);
    const agent = this;
    this.#host = {
      handler: options.handler,
      timers: options.timers,
      events: this.#events,
      maxFrameSize,
      helloTimeoutMs,
      get readPaused(): boolean {
        return agent.#readPaused;
      },
      acquire: () => this.#acquire(),
      release: (count) => this.#release(count),
      connectionClosed: (connection, reason) => this.#onClosed(connection, reason),
    };
  }

  /** Open connections (accepted and not yet reported closed). */
  get connectionCount(): number {
    return this.#connections.size;
  }

  /** NOTIFYs whose asynchronous answer is pending, over all connections. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /**
   * Takes over one accepted socket; the adapter feeds the returned port.
   *
   * @param transport The socket, as the runtime adapter wraps it.
   * @returns The port the adapter reports received bytes, drains and the close to.
   */
  accept(transport: Transport): ConnectionPort {
    if (this.#drain !== undefined) {
      transport.end();
      return CLOSED_PORT;
    }
    const connection = new Connection(this.#nextId++, transport, this.#host);
    this.#connections.add(connection);
    this.#events.connectionOpened(connection.id, transport.remoteAddress);
    if (this.#readPaused) connection.updatePause();
    return connection;
  }

  /**
   * Graceful drain: in-flight NOTIFYs are answered (frames already received too), then each
   * connection gets AGENT-DISCONNECT 0 and is ended; connections still in HELLO are closed.
   * Resolves when all have closed, or after `graceMs` (the rest are then ended).
   *
   * @param options How long to wait before ending the connections that are left.
   * @returns A promise settled once every connection has closed (the same one on each call).
   */
  drain(options?: DrainOptions): Promise<void> {
    if (this.#drain !== undefined) return this.#drain;
    const graceMs = options?.graceMs ?? DEFAULT_DRAIN_GRACE_MS;
    this.#drain = new Promise<void>((resolve) => {
      const timer = this.#timers.schedule(() => {
        for (const connection of [...this.#connections]) connection.abort();
        this.#drainDone?.();
      }, graceMs);
      this.#drainDone = () => {
        this.#drainDone = undefined;
        this.#timers.cancel(timer);
        resolve();
      };
    });
    for (const connection of [...this.#connections]) connection.drain();
    if (this.#connections.size === 0) this.#drainDone?.();
    return this.#drain;
  }

  #acquire(): void {
    this.#inFlight++;
    if (!this.#readPaused && this.#inFlight >= this.#maxInFlight) this.#setReadPaused(true);
  }

  #release(count: number): void {
    this.#inFlight -= count;
    if (this.#readPaused && this.#inFlight <= this.#resumeAt) this.#setReadPaused(false);
  }

  #setReadPaused(paused: boolean): void {
    this.#readPaused = paused;
    this.#events.readPaused(paused);
    for (const connection of this.#connections) {
      connection.updatePause();
      // A resumed connection may have pumped enough frames to engage the cap again.
      if (this.#readPaused !== paused) return;
    }
  }

  #onClosed(connection: Connection, reason: CloseReason): void {
    if (!this.#connections.delete(connection)) return;
    this.#events.connectionClosed(connection.id, reason);
    if (this.#connections.size === 0) this.#drainDone?.();
  }
}
