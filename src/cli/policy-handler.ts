/**
 * The NOTIFY handler the engine calls, rebuilt on every config reload: the running handler is
 * swapped atomically, so a request in flight finishes on the config it started with.
 * Decisions are timed through the store and reported to telemetry.
 * @module
 */
import type { HandlerResult, NotifyHandler } from "../agent/handler.ts";
import type { AgentConfig } from "../config/schema.ts";
import { createRateLimitHandler, type DecisionInfo } from "../ratelimit/handler.ts";
import { compilePolicies } from "../ratelimit/policy.ts";
import type { Decision, LimiterStore } from "../ratelimit/store.ts";
import { timedStore } from "./timed-store.ts";
import type { Telemetry } from "./telemetry.ts";

/** The engine-facing handler plus the reload hooks. */
export interface PolicyHandler {
  readonly handler: NotifyHandler;
  /** Builds handlers for `next` and swaps them in (policies, identity, failure decision). */
  apply(next: AgentConfig): void;
  /** Fields of `next` that differ from `running` but only take effect after a restart. */
  fixedFieldChanges(running: AgentConfig, next: AgentConfig): readonly string[];
}

/** Config fields a reload cannot change in a running process (sockets, store connections). */
const FIXED_FIELDS = ["listen", "socketMode", "metrics", "workers", "haproxy", "store", "shutdownGraceMs"] as const;

function resultOf(info: DecisionInfo): "allow" | "deny" | "shadow_deny" {
  if (!info.allowed) return "deny";
  return info.shadowDenied.length > 0 ? "shadow_deny" : "allow";
}

/** Creates the swappable handler for `config`. */
export function createPolicyHandler(
  config: AgentConfig,
  deps: { readonly store: LimiterStore; readonly telemetry: Telemetry },
): PolicyHandler {
  const elapsed = new WeakMap<Decision, number>();
  // A WeakMap keeps the timing off the Decision object and frees it with the decision.
  const store = timedStore(deps.store, (decision, ms) => elapsed.set(decision, ms));
  const onDecision = (info: DecisionInfo) => {
    deps.telemetry.recordDecision({
      limit: info.decidingLimit ?? info.limits[0]?.name ?? "none",
      result: resultOf(info),
      degraded: info.degraded,
      seconds: (elapsed.get(info.decision) ?? 0) / 1000,
    });
  };
  const build = (c: AgentConfig): NotifyHandler =>
    createRateLimitHandler({
      policies: compilePolicies(c.limits, { keyPrefix: c.store.keyPrefix }),
      identity: c.identity,
      store,
      failure: c.onAgentError,
      onDecision,
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
    fixedFieldChanges(running, next) {
      return FIXED_FIELDS.filter((field) => JSON.stringify(running[field]) !== JSON.stringify(next[field]));
    },
  };
}
