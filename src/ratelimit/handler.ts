/**
 * The rate-limit NotifyHandler: per message, resolve the client identity, collect the checks
 * of every matching limit, ask the store once, and turn the Decision into set-var actions.
 * A synchronous store answer stays synchronous (an array, no promise), so the memory store
 * keeps the engine on its no-promise fast path.
 * @module
 */
import type { HandlerResult, NotifyHandler } from "../agent/handler.ts";
import type { Action, Message } from "../spop/types.ts";
import { compileIdentity } from "./identity.ts";
import type { MatchedLimits, PolicySet } from "./policy/compile.ts";
import type { IdentityOptions, LimitDefinition } from "./policy/types.ts";
import type { Decision, LimiterStore } from "./store.ts";
import { decisionActions, FAILURE_ACTIONS, shadowDenials } from "./variables.ts";

/** The SPOE message name the default limit listens to. */
export const DEFAULT_MESSAGE_NAME = "check-rate";

/** What one decision looked like, for metrics and decision logs (the caller measures latency). */
export interface DecisionInfo {
  readonly message: string;
  readonly identity: string;
  /** Every matching limit, shadow ones included, index-aligned with `decision.results`. */
  readonly limits: readonly LimitDefinition[];
  readonly decision: Decision;
  readonly allowed: boolean;
  readonly degraded: boolean;
  /** Name of the limit that decided, or undefined when only shadow limits matched. */
  readonly decidingLimit: string | undefined;
  /** Names of the shadow limits that would have denied. */
  readonly shadowDenied: readonly string[];
}

/** Options of createRateLimitHandler. */
export interface RateLimitHandlerOptions {
  /** The policy set, or a getter read once per NOTIFY so a hot reload can swap it. */
  readonly policies: PolicySet | (() => PolicySet);
  readonly identity: IdentityOptions;
  readonly store: LimiterStore;
  /** The decision when `handle` throws or the store rejects. */
  readonly failure: "allow" | "deny";
  readonly onDecision?: (info: DecisionInfo) => void;
}

const NO_ACTIONS: readonly Action[] = Object.freeze([]);

function isPromiseLike<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as { then?: unknown }).then === "function";
}

/** Builds the NotifyHandler; throws RangeError when a trusted-proxy CIDR is invalid. */
export function createRateLimitHandler(options: RateLimitHandlerOptions): NotifyHandler {
  const { policies, store, onDecision } = options;
  const identity = compileIdentity(options.identity);
  const failure = FAILURE_ACTIONS[options.failure];

  const finish = (message: Message, who: string, matched: MatchedLimits, decision: Decision): readonly Action[] => {
    if (onDecision !== undefined) {
      const index = decision.decidingIndex;
      onDecision({
        message: message.name,
        identity: who,
        limits: matched.limits,
        decision,
        allowed: decision.allowed,
        degraded: decision.degraded,
        decidingLimit: index >= 0 ? matched.limits[index].name : undefined,
        shadowDenied: shadowDenials(decision, matched.limits),
      });
    }
    return decisionActions(decision, matched);
  };

  const decide = (set: PolicySet, message: Message): readonly Action[] | PromiseLike<readonly Action[]> => {
    if (!set.handles(message.name)) return NO_ACTIONS;
    const who = identity.resolve(message.args);
    const matched = set.checksFor(message, who);
    if (matched === undefined) return NO_ACTIONS;
    const answer = store.check(matched.checks);
    if (isPromiseLike(answer)) return answer.then((decision) => finish(message, who, matched, decision));
    return finish(message, who, matched, answer);
  };

  return {
    handle(messages: readonly Message[]): HandlerResult {
      // One set per NOTIFY: a reload mid-flight doesn't change the rules of a request in progress.
      const set = typeof policies === "function" ? policies() : policies;
      if (messages.length === 1) return decide(set, messages[0]);
      const parts: (readonly Action[] | PromiseLike<readonly Action[]>)[] = [];
      let pending = false;
      for (const message of messages) {
        const part = decide(set, message);
        if (isPromiseLike(part)) pending = true;
        parts.push(part);
      }
      if (!pending) return (parts as (readonly Action[])[]).flat();
      return Promise.all(parts).then((done) => done.flat());
    },
    failureActions(): readonly Action[] {
      return failure;
    },
  };
}
