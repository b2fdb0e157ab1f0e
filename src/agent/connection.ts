/**
 * One SPOP connection: the state machine from HAPROXY-HELLO to close (spop-protocol.md §5,
 * §6, §12), NOTIFY dispatch with out-of-order ACKs, and read backpressure.
 * @module
 */
import { SpopError } from "../spop/errors.ts";
import { decodeDisconnect, decodeHaproxyHello, decodeNotify, writeAgentHello, writeDisconnect } from "../spop/frame.ts";
import { FrameReader } from "../spop/reader.ts";
import {
  type Action,
  DISCONNECT_MESSAGES,
  DisconnectStatus,
  type DisconnectStatusCode,
  type Frame,
  FrameFlag,
  FrameType,
  type Message,
} from "../spop/types.ts";
import { AckBatch } from "./ack-batch.ts";
import { Answerer } from "./answer.ts";
import type { CloseReason, SafeEvents } from "./events.ts";
import type { HandlerResult, NotifyHandler } from "./handler.ts";
import { negotiateHello } from "./hello.ts";
import { isPromiseLike } from "./promise-like.ts";
import type { ConnectionPort, Timers, Transport } from "./transport.ts";

/**
 * A draining connection keeps reading and answering for this long before its final DISCONNECT:
 * NOTIFYs HAProxy wrote before the signal may still sit in the socket, not yet delivered to us.
 */
export const DRAIN_QUIET_MS = 50;

/** What a connection needs from the agent that owns it. */
export interface ConnectionHost {
  readonly handler: NotifyHandler;
  readonly timers: Timers;
  readonly events: SafeEvents;
  readonly maxFrameSize: number;
  readonly helloTimeoutMs: number;
  /** Global in-flight backpressure is engaged. */
  readonly readPaused: boolean;
  /** One more NOTIFY is being handled asynchronously. */
  acquire(): void;
  /** `count` asynchronous NOTIFYs finished (or their connection closed). */
  release(count: number): void;
  /** The transport reported closed (its in-flight slots were already released). */
  connectionClosed(connection: Connection, reason: CloseReason): void;
}

/**
 * hello: waiting for HAPROXY-HELLO · healthcheck: answered a check, waiting for the peer to close
 * · running · draining: answering what is in flight, then AGENT-DISCONNECT 0 · closing: we ended
 * the transport · closed: the transport reported closed.
 */
type State = "hello" | "healthcheck" | "running" | "draining" | "closing" | "closed";

/** HELLO and DISCONNECT carry stream-id 0 and frame-id 0, i.e. the two bytes `00 00` (§4). */
function hasZeroIds(frame: Frame): boolean {
  const ids = frame.idBytes;
  return ids.length === 2 && ids[0] === 0 && ids[1] === 0;
}

/** The engine side of one accepted transport. */
export class Connection implements ConnectionPort {
  /** Process-unique id, also given to the handler as `connectionId`. */
  readonly id: number;
  readonly #transport: Transport;
  readonly #host: ConnectionHost;
  readonly #reader: FrameReader;
  readonly #out: AckBatch;
  readonly #answers: Answerer;
  #state: State = "hello";
  #timer: unknown = undefined;
  #timerArmed = false;
  /** Asynchronous NOTIFYs of this connection not answered yet (counted in the agent too). */
  #inFlight = 0;
  #writeBlocked = false;
  #transportPaused = false;
  #pumping = false;
  #closeReason: CloseReason | undefined;

  constructor(id: number, transport: Transport, host: ConnectionHost) {
    this.id = id;
    this.#transport = transport;
    this.#host = host;
    this.#reader = new FrameReader({ maxFrameSize: host.maxFrameSize });
    this.#out = new AckBatch((bytes) => this.#send(bytes), { maxFrameSize: host.maxFrameSize });
    this.#answers = new Answerer(this.#out, { handler: host.handler, events: host.events, connectionId: id });
    this.#armTimer();
  }

  /** Asynchronous NOTIFYs still being handled on this connection. */
  get inFlight(): number {
    return this.#inFlight;
  }

  receive(chunk: Uint8Array): void {
    // After a health check, a protocol error or our DISCONNECT nothing more is read (§6).
    if (!this.#readable()) return;
    this.#reader.push(chunk);
    this.#pump();
  }

  drained(): void {
    if (!this.#writeBlocked) return;
    this.#writeBlocked = false;
    this.updatePause();
  }

  closed(error?: unknown): void {
    if (this.#state === "closed") return;
    const reason = this.#closeReason ?? (error === undefined ? "peer-closed" : "peer-error");
    this.#state = "closed";
    this.#disarmTimer();
    this.#out.close();
    // Late handler completions are dropped; their slots are returned to the agent now.
    const held = this.#inFlight;
    this.#inFlight = 0;
    if (held > 0) this.#host.release(held);
    this.#host.connectionClosed(this, reason);
  }

  /** Re-evaluates read backpressure (own congested socket, or the agent's global cap). */
  updatePause(): void {
    if (!this.#readable()) return;
    const wanted = this.#writeBlocked || this.#host.readPaused;
    if (wanted === this.#transportPaused) return;
    this.#transportPaused = wanted;
    if (wanted) {
      this.#transport.pause();
    } else {
      this.#transport.resume();
      // Frames buffered while paused are still waiting in the reader.
      this.#pump();
    }
  }

  /** Graceful shutdown: answer what is in flight, then AGENT-DISCONNECT 0; close before HELLO. */
  drain(): void {
    if (this.#state === "hello" || this.#state === "healthcheck") {
      this.#endQuietly("drained");
    } else if (this.#state === "running") {
      this.#state = "draining";
      this.#armTimer(DRAIN_QUIET_MS);
    }
  }

  /** Ends the transport without sending anything (drain grace period expired). */
  abort(): void {
    if (this.#state !== "closed") this.#endQuietly(this.#closeReason ?? "drained");
  }

  #readable(): boolean {
    const s = this.#state;
    return s === "hello" || s === "running" || s === "draining";
  }

  #pump(): void {
    // A synchronous drained()/resume() inside a write must not start a second loop.
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      while (this.#readable() && !this.#transportPaused) {
        let frame: Frame | undefined;
        try {
          frame = this.#reader.next();
          if (frame === undefined) break;
          this.#host.events.frameReceived(frame.type);
          this.#onFrame(frame);
        } catch (error) {
          this.#protocolError(error);
        }
      }
    } finally {
      this.#pumping = false;
    }
    this.#finishDrainIfIdle();
    this.#out.flush();
  }

  #onFrame(frame: Frame): void {
    if (this.#state === "hello") return this.#onHello(frame);
    // Type 0 or a missing FIN is a fragment, and we never announce fragmentation (§12).
    // ABORT alone does not matter: only FIN decides.
    if ((frame.flags & FrameFlag.FIN) === 0 || frame.type === FrameType.UNSET) {
      throw new SpopError(
        DisconnectStatus.FRAGMENTATION_NOT_SUPPORTED,
        `Cannot accept fragmented frame: type ${frame.type}, flags ${frame.flags}`,
      );
    }
    switch (frame.type) {
      case FrameType.NOTIFY:
        return this.#onNotify(frame);
      case FrameType.HAPROXY_DISCONNECT:
        return this.#onDisconnect(frame);
      case FrameType.HAPROXY_HELLO:
        throw new SpopError(DisconnectStatus.INVALID, "Cannot accept a second HAPROXY-HELLO");
      default:
        // Unknown types are skipped: the frame is length-delimited (§12).
        return;
    }
  }

  #onHello(frame: Frame): void {
    if (frame.type !== FrameType.HAPROXY_HELLO || (frame.flags & FrameFlag.FIN) === 0 || !hasZeroIds(frame)) {
      throw new SpopError(
        DisconnectStatus.INVALID,
        `Cannot start: expected HAPROXY-HELLO with FIN and ids 0/0, got type ${frame.type} flags ${frame.flags}`,
      );
    }
    const offer = decodeHaproxyHello(frame);
    this.#host.events.helloReceived(this.id, offer);
    const answer = negotiateHello(offer, this.#host.maxFrameSize);
    this.#disarmTimer();
    this.#out.frame((w) => writeAgentHello(w, answer));
    this.#host.events.frameSent(FrameType.AGENT_HELLO);
    this.#reader.maxFrameSize = answer.maxFrameSize;
    this.#out.maxFrameSize = answer.maxFrameSize;
    if (offer.healthcheck === true) {
      // The checker expects the AGENT-HELLO alone and closes itself (§5); bound its stay.
      this.#state = "healthcheck";
      this.#out.flush();
      this.#armTimer();
      return;
    }
    this.#state = "running";
  }

  #onNotify(frame: Frame): void {
    // decodeNotify reads the payload in place instead of making a view of it (hot path).
    const messages = decodeNotify(frame);
    const context = { streamId: frame.streamId, frameId: frame.frameId, connectionId: this.id };
    let result: HandlerResult;
    try {
      result = this.#host.handler.handle(messages, context);
    } catch (error) {
      return this.#answers.fail(frame, error, messages);
    }
    if (isPromiseLike(result)) {
      // FrameView's idBytes is a copy, so it may outlive the received chunk; the frame may not.
      return this.#await(result, { idBytes: frame.idBytes }, messages);
    }
    // The frame is still valid here: writing its ids straight from it saves a copy per NOTIFY.
    this.#answers.answer(frame, result, messages);
  }

  #await(pending: PromiseLike<readonly Action[]>, notify: Pick<Frame, "idBytes">, messages: readonly Message[]): void {
    this.#inFlight++;
    this.#host.acquire();
    // A hand-written thenable may call back twice or throw from then(): exactly one ACK anyway.
    let settled = false;
    const settle = (answer: () => void): void => {
      if (settled) return;
      settled = true;
      this.#settle(answer);
    };
    const onError = (error: unknown): void => settle(() => this.#answers.fail(notify, error, messages));
    try {
      pending.then((actions) => settle(() => this.#answers.answer(notify, actions, messages)), onError);
    } catch (error) {
      onError(error);
    }
  }

  #settle(answer: () => void): void {
    // closed() already returned this NOTIFY's slot; the peer is gone, the answer is dropped.
    if (this.#state === "closed") return;
    if (this.#state === "running" || this.#state === "draining") {
      answer();
      this.#out.scheduleFlush();
    }
    this.#inFlight--;
    this.#host.release(1);
    this.#finishDrainIfIdle();
  }

  #onDisconnect(frame: Frame): void {
    const { status, message } = decodeDisconnect(frame);
    this.#host.events.disconnectReceived(this.id, status, message);
    // In-flight handlers are not awaited: HAProxy is closing and ignores late ACKs.
    this.#disconnect(DisconnectStatus.NORMAL, "haproxy-disconnect");
  }

  #protocolError(error: unknown): void {
    if (!this.#readable()) return;
    const status = error instanceof SpopError ? error.status : DisconnectStatus.INVALID;
    const detail = error instanceof Error ? error.message : String(error);
    this.#disconnect(status, "protocol-error", detail);
  }

  #finishDrainIfIdle(): void {
    if (this.#state === "draining" && this.#inFlight === 0 && !this.#timerArmed) this.#disconnect(DisconnectStatus.NORMAL, "drained");
  }

  /** Queues AGENT-DISCONNECT after whatever is pending, sends it all in one write, ends. */
  #disconnect(status: DisconnectStatusCode, reason: CloseReason, detail?: string): void {
    const message = DISCONNECT_MESSAGES[status] ?? DISCONNECT_MESSAGES[DisconnectStatus.UNKNOWN];
    this.#state = "closing";
    this.#closeReason = reason;
    this.#disarmTimer();
    this.#out.frame((w) => writeDisconnect(w, FrameType.AGENT_DISCONNECT, status, message));
    this.#host.events.frameSent(FrameType.AGENT_DISCONNECT);
    this.#host.events.disconnectSent(this.id, status, detail ?? message);
    this.#out.flush();
    this.#out.close();
    this.#transport.end();
  }

  #endQuietly(reason: CloseReason): void {
    this.#state = "closing";
    this.#closeReason ??= reason;
    this.#disarmTimer();
    this.#out.flush();
    this.#out.close();
    this.#transport.end();
  }

  #send(bytes: Uint8Array): void {
    if (this.#transport.write(bytes) || this.#writeBlocked || this.#state === "closed") return;
    // A slow socket: stop reading until the adapter has written everything (drained()).
    this.#writeBlocked = true;
    this.updatePause();
  }

  #armTimer(ms = this.#host.helloTimeoutMs): void {
    this.#timerArmed = true;
    this.#timer = this.#host.timers.schedule(() => this.#onTimeout(), ms);
  }

  #disarmTimer(): void {
    if (!this.#timerArmed) return;
    this.#timerArmed = false;
    this.#host.timers.cancel(this.#timer);
    this.#timer = undefined;
  }

  #onTimeout(): void {
    this.#timerArmed = false;
    if (this.#state === "hello") {
      this.#disconnect(DisconnectStatus.TIMEOUT, "hello-timeout");
    } else if (this.#state === "healthcheck") {
      this.#endQuietly("hello-timeout");
    } else if (this.#state === "draining") {
      this.#finishDrainIfIdle();
      this.#out.flush();
    }
  }
}
