/**
 * The NOTIFY handler the engine calls, rebuilt on every config reload: the running handler is
 * swapped atomically, so a request in flight finishes on the config it started with.
 * Decisions are timed through the store and reported to telemetry.
 * @module
 */
import type { HandlerResult, NotifyHandler } from "../agent/handler.ts";
import type { AgentConfig } from "../config/schema.ts";
import { createRateLimitHandler, type DecisionInfo } from "../ratelimit/handler.ts";
import { compilePolicies } from "../ratelimit/policy/compile.ts";
import type { Decision, LimiterStore } from "../ratelimit/store.ts";
import { timedStore } from "./timed-store.ts";
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

/** Creates the swappable handler for `config`. */
export function createPolicyHandler(
  config: AgentConfig,
  deps: { readonly store: LimiterStore; readonly telemetry: Telemetry },
): PolicyHandler {
  // A synchronous store (memory) answers inside handle(), so onDecision runs before any other
  // check: the last synchronous timing is its own. Promised decisions interleave, so their
  // timing is kept per Decision in a WeakMap (off the object, freed with it).
  let syncDecision: Decision | undefined;
  let syncMs = 0;
  const elapsed = new WeakMap<Decision, number>();
  const store = timedStore(deps.store, (decision, ms, sync) => {
    if (sync) {
      syncDecision = decision;
      syncMs = ms;
    } else {
      elapsed.set(decision, ms);
    }
  });
  const onDecision = (info: DecisionInfo) => {
    const ms = info.decision === syncDecision ? syncMs : (elapsed.get(info.decision) ?? 0);
    deps.telemetry.recordDecision({
      limit: info.decidingLimit ?? info.limits[0]?.name ?? "none",
      result: resultOf(info),
      degraded: info.degraded,
      seconds: ms / 1000,
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
  };
}
