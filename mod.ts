/**
 * spoa-gcra as a library: the SPOP codec, the protocol engine with its handler API, and the
 * GCRA limiter stores — everything needed to write your own HAProxy SPOE agent, on any
 * runtime that gives you a socket. The runtime adapters and the CLI are not part of it.
 *
 * @example A whole agent: answer every NOTIFY with `txn.<prefix>.seen = true`
 * ```ts
 * import { Agent, type NotifyHandler } from "@spoa-gcra/spoa-gcra";
 *
 * const handler: NotifyHandler = {
 *   handle: () => [{ type: "set-var", scope: "txn", name: "seen", value: { kind: "bool", value: true } }],
 *   failureActions: () => [],
 * };
 * const timers = { schedule: (f: () => void, ms: number) => setTimeout(f, ms), cancel: (h: unknown) => clearTimeout(h as number) };
 * const agent = new Agent({ handler, timers });
 * // For each accepted socket: const port = agent.accept(transport); then feed port.receive(bytes).
 * ```
 *
 * @example GCRA in memory: 5 requests at once, then one per second
 * ```ts
 * import { MemoryStore } from "@spoa-gcra/spoa-gcra";
 *
 * const store = new MemoryStore({ clock: { nowUs: () => Date.now() * 1000 } });
 * const check = { key: "rl:{203.0.113.7}:api", params: { emissionIntervalUs: 1_000_000, burstToleranceUs: 4_000_000 }, cost: 1, shadow: false };
 * const decision = store.check([check]); // synchronous for the memory store
 * ```
 * @module
 */

// The SPOP codec (spop-protocol.md §1–§7).
export * from "./src/spop/types.ts";
export { SpopError } from "./src/spop/errors.ts";
export { decodeVarint, encodeVarint, varintSize, writeVarint } from "./src/spop/varint.ts";
export { Writer } from "./src/spop/writer.ts";
export { FrameReader } from "./src/spop/reader.ts";
export { decodeKvList } from "./src/spop/kv.ts";
export { decodeMessages, writeMessages } from "./src/spop/messages.ts";
export { decodeActions, writeActions } from "./src/spop/actions.ts";
export {
  type AgentHello,
  decodeAgentHello,
  decodeDisconnect,
  decodeHaproxyHello,
  type DisconnectInfo,
  encodeIds,
  type HaproxyHello,
  writeAck,
  writeAgentHello,
  writeDisconnect,
  writeHaproxyHello,
  writeNotify,
} from "./src/spop/frame.ts";
export { type DecodedFrame, decodeFrame, encodeFrame } from "./src/spop/codec.ts";

// The protocol engine and its contracts.
export { Agent, type AgentEvents, type AgentOptions, type CloseReason, type DrainOptions } from "./src/agent/agent.ts";
export type { HandlerResult, NotifyContext, NotifyHandler } from "./src/agent/handler.ts";
export type { ConnectionPort, Timers, Transport } from "./src/agent/transport.ts";

// GCRA and the limiter stores.
export type { Clock, Decision, GcraParams, LimitCheck, LimiterStore, LimitResult } from "./src/ratelimit/store.ts";
export { MemoryStore, type MemoryStoreOptions } from "./src/ratelimit/memory/store.ts";
export { DenyCache } from "./src/ratelimit/deny-cache.ts";
export { ResilientStore, type ResilientStoreOptions, type StoreEvent } from "./src/ratelimit/resilient-store.ts";
export { createValkeyStore, type ValkeyStore, type ValkeyStoreOptions } from "./src/ratelimit/valkey/store.ts";
export { limitKey } from "./src/ratelimit/keys.ts";

// Rate-limit policies, client identity and the ready-made handler.
export type { ArgMatcher, CostSpec, IdentityOptions, KeyPart, LimitDefinition } from "./src/ratelimit/policy/types.ts";
export { compilePolicies, type PolicySet } from "./src/ratelimit/policy/compile.ts";
export { compileIdentity, resolveIdentity } from "./src/ratelimit/identity.ts";
export { createRateLimitHandler, type DecisionInfo, type RateLimitHandlerOptions } from "./src/ratelimit/handler.ts";
