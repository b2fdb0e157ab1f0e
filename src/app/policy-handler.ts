/**
 * The NOTIFY handler the engine calls, rebuilt on every config reload: the running handler is
 * swapped atomically, so a request in flight finishes on the config it started with.
 * Each decision reaches telemetry with the store time the handler measured.
 * @module
 */
import type { HandlerResult, NotifyHandler } from "../agent/handler.ts";
import type { AgentConfig } from "../config/schema.ts";
import { ackSelection } from "../ratelimit/answer/ack-selection.ts";
import { createRateLimitHandler, type DecisionInfo } from "../ratelimit/handler.ts";
import { compilePolicies } from "../ratelimit/policy/compile.ts";
import type { Clock, LimiterStore } from "../ratelimit/store.ts";
import type { PhaseStore } from "../ratelimit/response/memory-phases.ts";
import type { ResponseIssue } from "../ratelimit/response/phase-handler.ts";
import { ticketSealer } from "../ratelimit/response/ticket.ts";
import { createHmac } from "node:crypto";
import { monotonicClock } from "../runtime/host-time.ts";
import type { Telemetry } from "./telemetry.ts";

/** The engine-facing handler plus the reload hooks. */
export interface PolicyHandler {
  readonly handler: NotifyHandler;
  /** Builds handlers for `next` and swaps them in (policies, identity, failure decision). */
  apply(next: AgentConfig): void;
}

function resultOf(info: DecisionInfo): "allow" | "deny" | "shadow_deny" {
  if (!info.allowed) return "deny";
  return info.shadowDenied.length > 0 ? "shadow_deny" : "allow";
}

/**
 * The ticket key when SPOA_TICKET_SECRET is unset: random, made once per process, so a reload
 * keeps honouring the tickets of requests still in flight.
 */
let processTicketKey: Uint8Array | undefined;

/** node:crypto's HMAC-SHA-256 (Bun, Deno and Node all have it): ~1.6 µs where the core's takes ~10. */
const nodeHmac = (key: Uint8Array) => (message: Uint8Array): Uint8Array => new Uint8Array(createHmac("sha256", key).update(message).digest());

function ticketKey(config: AgentConfig): Uint8Array {
  const secret = config.haproxy.ticketSecret;
  if (secret !== undefined) return new TextEncoder().encode(secret);
  return (processTicketKey ??= crypto.getRandomValues(new Uint8Array(32)));
}

/** Creates the swappable handler for `config`; `clock` times the store calls (default: the host's monotonic clock). */
export function createPolicyHandler(
  config: AgentConfig,
  deps: {
    readonly store: LimiterStore;
    readonly telemetry: Telemetry;
    readonly clock?: Clock;
    /** The two phases of limits that see the response (BuiltStore.phases). */
    readonly phases?: PhaseStore;
    /** Response-phase input refused (a forged ticket, a bad cost): for a metric and a throttled log line. */
    readonly onResponseIssue?: (issue: ResponseIssue) => void;
  },
): PolicyHandler {
  const { store, telemetry } = deps;
  const clock = deps.clock ?? monotonicClock;
  const onDecision = (info: DecisionInfo) => {
    telemetry.recordDecision({
      limit: info.decidingLimit ?? info.limits[0]?.name ?? "none",
      result: resultOf(info),
      degraded: info.degraded,
      seconds: info.storeUs / 1e6,
    });
  };
  const build = (c: AgentConfig): NotifyHandler =>
    createRateLimitHandler({
      policies: compilePolicies(c.limits, { keyPrefix: c.store.keyPrefix }),
      identity: c.identity,
      store,
      failure: c.onAgentError,
      onDecision,
      clock,
      variables: ackSelection(c.haproxy.variables),
      ...(deps.phases === undefined ? {} : { phases: { phases: deps.phases, tickets: ticketSealer(ticketKey(c), nodeHmac), onIssue: deps.onResponseIssue } }),
    });

  let current = build(config);
  return {
    handler: {
      handle: (messages, context): HandlerResult => current.handle(messages, context),
      failureActions: (error, messages) => current.failureActions(error, messages),
    },
    apply(next) {
      current = build(next);
    },
  };
}
