/**
 * The handler API: what an agent author implements to answer NOTIFY frames.
 * @module
 */
import type { Action, Message } from "../spop/types.ts";

/** Where a NOTIFY came from; ids are informative (the engine echoes the raw id bytes). */
export interface NotifyContext {
  readonly streamId: number;
  readonly frameId: number;
  /** Process-unique id of the SPOP connection, for logs. */
  readonly connectionId: number;
}

/** The actions of one ACK, synchronously or later. */
export type HandlerResult = readonly Action[] | PromiseLike<readonly Action[]>;

/**
 * Answers the messages of one NOTIFY frame with the actions of its ACK.
 * Return an array directly when the answer is known synchronously: the engine then
 * encodes the ACK without a promise.
 */
export interface NotifyHandler {
  /** Decide; may throw or reject — the engine then sends `failureActions(error)`. */
  handle(messages: readonly Message[], context: NotifyContext): HandlerResult;
  /** The configured failure decision for a NOTIFY whose `handle` threw or rejected. */
  failureActions(error: unknown, messages: readonly Message[]): readonly Action[];
}
