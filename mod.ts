/**
 * spoa-gcra as a library: the SPOP codec, the protocol engine with its handler API, the helpers
 * a handler author needs (arguments, addresses, set-var actions, rates) and the in-memory GCRA
 * limiter — everything to write your own HAProxy SPOE agent. Pure code: this entry loads no
 * runtime, network client or `node:` module. `@spoa-gcra/spoa-gcra/serve` serves an agent on
 * whichever runtime runs it (or pick `/bun`, `/deno`, `/node`); `/testing` drives one in memory
 * without HAProxy; the Valkey store comes from `/valkey`.
 *
 * @example A whole agent: answer every NOTIFY with `txn.<prefix>.seen = true`
 * ```ts
 * import { Agent, type NotifyHandler, setVar } from "@spoa-gcra/spoa-gcra";
 * import { adapter, timers } from "@spoa-gcra/spoa-gcra/bun";
 *
 * const handler: NotifyHandler = {
 *   handle: () => [setVar("txn", "seen", true)],
 *   failureActions: () => [],
 * };
 * const agent = new Agent({ handler, timers });
 * const listener = await adapter.listenSpop({ kind: "tcp", hostname: "127.0.0.1", port: 0 }, (t) => agent.accept(t));
 * console.log(`agent listening on ${listener.address}`);
 * await listener.close();
 * ```
 *
 * @example GCRA in memory: 5 requests at once, then one per second
 * ```ts
 * import { gcraParams, MemoryStore, parseRate } from "@spoa-gcra/spoa-gcra";
 *
 * const store = new MemoryStore({ clock: { nowUs: () => Date.now() * 1000 } });
 * const params = gcraParams(parseRate("1/s")!, 5);
 * const check = { key: "rl:{203.0.113.7}:api", params, cost: 1, shadow: false };
 * const decisions = Array.from({ length: 6 }, () => store.check([check]));
 * console.assert(decisions.map((d) => "allowed" in d && d.allowed).join() === "true,true,true,true,true,false");
 * ```
 * @module
 */

// The SPOP data model and whole-frame codec (spop-protocol.md §1–§7).
export {
  type Action,
  DataTypeId,
  type DataKind,
  DEFAULT_FRAME_SIZE,
  DISCONNECT_MESSAGES,
  DisconnectStatus,
  type DisconnectStatusCode,
  FrameType,
  type Message,
  MIN_FRAME_SIZE,
  type NamedData,
  SPOP_VERSION,
  type TypedData,
  VarScope,
  type VarScopeName,
} from "./src/spop/types.ts";
export { SpopError } from "./src/spop/errors.ts";
export type { AgentHello, HaproxyHello } from "./src/spop/frame.ts";
export { type DecodedFrame, decodeFrame, encodeFrame } from "./src/spop/codec.ts";

// The protocol engine and its contracts.
export { Agent, type AgentEvents, type AgentOptions, type CloseReason, type DrainOptions } from "./src/agent/agent.ts";
export type { HandlerResult, NotifyContext, NotifyHandler } from "./src/agent/handler.ts";
export type { ConnectionPort, ListenAddress, Transport } from "./src/agent/transport.ts";
export type { Clock, Timers } from "./src/agent/time.ts";

// What a handler author reaches for: arguments, addresses, actions, listen addresses.
export { type PlainValue, setVar, typedData, unsetVar } from "./src/spop/action-builders.ts";
export { dataAddress, dataText, findArg } from "./src/ratelimit/policy/args.ts";
export { type CidrSet, formatIp, type IpAddress, parseCidrList, parseIp } from "./src/ratelimit/identity/ip.ts";
export { parseListenAddress } from "./src/ratelimit/identity/address-text.ts";

// GCRA and the in-memory limiter.
export { formatRate, gcraParams, parseRate, type Rate } from "./src/ratelimit/rate.ts";
export type { Decision, GcraParams, LimitCheck, LimiterStore, LimitResult } from "./src/ratelimit/store.ts";
export { MemoryStore, type MemoryStoreOptions } from "./src/ratelimit/memory/store.ts";
export type { TatTableStats } from "./src/ratelimit/memory/tat-table.ts";
export { DenyCache, type DenyCacheOptions } from "./src/ratelimit/resilience/deny-cache.ts";
export {
  type DegradedReason,
  type FailurePolicy,
  type NodeAwareStore,
  ResilientStore,
  type ResilientStoreOptions,
  type StoreEvent,
} from "./src/ratelimit/resilience/resilient-store.ts";
export type { BreakerOptions, BreakerState } from "./src/ratelimit/resilience/breaker.ts";
export type { KeyAdmin, StoredKey } from "./src/ratelimit/store-admin.ts";
export { limitKey } from "./src/ratelimit/identity/keys.ts";

// Rate-limit policies, client identity and the ready-made rate-limit handler.
export type { ArgMatcher, ConcurrencySpec, CostSpec, IdentityOptions, KeyPart, LimitDefinition } from "./src/ratelimit/policy/types.ts";
export type { CompiledLimit, LimitAnswer } from "./src/ratelimit/answer/limit-answer.ts";
export { compilePolicies, type MatchedLimits, type PolicySet } from "./src/ratelimit/policy/compile.ts";
export { compileIdentity, DEFAULT_IDENTITY_OPTIONS, type IdentityResolver, resolveIdentity } from "./src/ratelimit/identity/identity.ts";
export { type AckSelection, ackSelection } from "./src/ratelimit/answer/ack-selection.ts";
// Limits that see the response: post-paid cost and concurrency leases (src/ratelimit/response/).
export type { LeaseSpec, PhaseCheck, PhaseDecision, PhaseResult, Settlement, SettleResult } from "./src/ratelimit/response/phase.ts";
export { MemoryPhaseStore, type PhaseStore } from "./src/ratelimit/response/memory-phases.ts";
export { type HmacFactory, type Ticket, type TicketEntry, type TicketSealer, ticketSealer } from "./src/ratelimit/response/ticket.ts";
export { type PhaseHandlerOptions, RESPONSE_MESSAGE_NAME, type ResponseIssue } from "./src/ratelimit/response/phase-handler.ts";
export type { CostRefusal } from "./src/ratelimit/response/cost-arg.ts";
export {
  createRateLimitHandler,
  DEFAULT_MESSAGE_NAME,
  type DecisionInfo,
  type RateLimitHandlerOptions,
} from "./src/ratelimit/handler.ts";
