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

/** Creates the swappable handler for `config`; `clock` times the store calls (default: the host's monotonic clock). */
export function createPolicyHandler(
  config: AgentConfig,
  deps: { readonly store: LimiterStore; readonly telemetry: Telemetry; readonly clock?: Clock },
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
