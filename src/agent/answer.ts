/**
 * The answer policy of a NOTIFY: exactly one ACK, never empty, whatever the handler does
 * (spop-protocol.md §12 "Always ACK").
 * @module
 */
import type { Action, Frame, Message } from "../spop/types.ts";
import { FrameType } from "../spop/types.ts";
import { type AckBatch, PADDING_ACTIONS } from "./ack-batch.ts";
import type { SafeEvents } from "./events.ts";
import type { NotifyHandler } from "./handler.ts";

/** Turns handler outcomes into ACK frames of one connection; its methods never throw. */
export class Answerer {
  readonly #out: AckBatch;
  readonly #handler: NotifyHandler;
  readonly #events: SafeEvents;
  readonly #connectionId: number;

  constructor(out: AckBatch, options: { handler: NotifyHandler; events: SafeEvents; connectionId: number }) {
    this.#out = out;
    this.#handler = options.handler;
    this.#events = options.events;
    this.#connectionId = options.connectionId;
  }

  /**
   * Queues the ACK for the handler's `actions`; unusable answers become a failure. `notify` is the
   * NOTIFY Frame when answering synchronously (no id copy); a deferred answer holds `{ idBytes }`.
   */
  answer(notify: Pick<Frame, "idBytes">, actions: unknown, messages: readonly Message[]): void {
    if (!Array.isArray(actions)) {
      const error = new TypeError(`Handler returned ${typeof actions} instead of an array of actions`);
      return this.fail(notify, error, messages);
    }
    try {
      // An empty ACK stalls early 3.1.x, so "nothing to say" is sent as the padding action.
      this.#out.ack(notify, actions.length > 0 ? (actions as readonly Action[]) : PADDING_ACTIONS);
    } catch (error) {
      // Unencodable or over max-frame-size: the handler's answer is as good as a throw.
      return this.fail(notify, error, messages);
    }
    this.#events.frameSent(FrameType.ACK);
  }

  /** Queues the ACK for a handler that threw or rejected: failureActions, else the padding. */
  fail(notify: Pick<Frame, "idBytes">, error: unknown, messages: readonly Message[]): void {
    const events = this.#events;
    events.handlerFailed(this.#connectionId, error);
    let actions: readonly Action[] = PADDING_ACTIONS;
    try {
      const fallback = this.#handler.failureActions(error, messages);
      if (Array.isArray(fallback) && fallback.length > 0) actions = fallback;
    } catch (fallbackError) {
      events.handlerFailed(this.#connectionId, fallbackError);
    }
    try {
      this.#out.ack(notify, actions);
    } catch (encodeError) {
      events.handlerFailed(this.#connectionId, encodeError);
      this.#out.ack(notify, PADDING_ACTIONS);
    }
    events.frameSent(FrameType.ACK);
  }
}
