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
 *
 * @example An asynchronous answer with a safe fallback
 * ```ts
 * import { findArg, type NotifyHandler, setVar } from "@spoa-gcra/spoa-gcra";
 *
 * const lookup = async (user: string) => (user === "admin" ? "staff" : "member"); // a database, say
 * const handler: NotifyHandler = {
 *   async handle(messages) {
 *     const user = findArg(messages[0]?.args ?? [], "user");
 *     const role = await lookup(user?.kind === "string" ? user.value : "");
 *     return [setVar("txn", "role", role)];
 *   },
 *   failureActions: () => [setVar("txn", "role", "anonymous")],
 * };
 * const actions = await handler.handle([{ name: "who", args: [{ name: "user", kind: "string", value: "admin" }] }], { streamId: 1, frameId: 1, connectionId: 1 });
 * console.assert(actions[0].type === "set-var" && actions[0].value.kind === "string" && actions[0].value.value === "staff");
 * ```
 */
export interface NotifyHandler {
  /** Decide; may throw or reject — the engine then sends `failureActions(error)`. */
  handle(messages: readonly Message[], context: NotifyContext): HandlerResult;
  /** The configured failure decision for a NOTIFY whose `handle` threw or rejected. */
  failureActions(error: unknown, messages: readonly Message[]): readonly Action[];
}
