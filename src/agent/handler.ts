/**
 * The handler API: what an agent author implements to answer NOTIFY frames.
 * @module
 */
import type { Action, Message } from "../spop/types.ts";

/**
 * Where a NOTIFY came from; ids are informative (the engine echoes the raw id bytes).
 *
 * @example Log which connection asked
 * ```ts
 * import type { NotifyContext, NotifyHandler } from "@spoa-gcra/spoa-gcra";
 *
 * const seen: string[] = [];
 * const handler: NotifyHandler = {
 *   handle: (_messages, context: NotifyContext) => (seen.push(`conn ${context.connectionId} stream ${context.streamId}`), []),
 *   failureActions: () => [],
 * };
 * handler.handle([], { streamId: 4, frameId: 1, connectionId: 2 });
 * console.assert(seen[0] === "conn 2 stream 4");
 * ```
 */
export interface NotifyContext {
  readonly streamId: number;
  readonly frameId: number;
  /** Process-unique id of the SPOP connection, for logs. */
  readonly connectionId: number;
}

/**
 * The actions of one ACK, synchronously or later.
 *
 * @example Answer at once when you can
 * ```ts
 * import { type HandlerResult, setVar } from "@spoa-gcra/spoa-gcra";
 *
 * const cache = new Map([["192.0.2.1", 90]]);
 * function score(ip: string): HandlerResult {
 *   const known = cache.get(ip);
 *   if (known !== undefined) return [setVar("sess", "ip_score", known)]; // no promise on the hot path
 *   return Promise.resolve([setVar("sess", "ip_score", 0)]); // e.g. ask a service
 * }
 * console.assert(Array.isArray(score("192.0.2.1")) && !Array.isArray(score("198.51.100.1")));
 * ```
 */
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
