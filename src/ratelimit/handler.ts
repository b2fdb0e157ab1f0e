/**
 * The rate-limit NotifyHandler: per message, resolve the client identity, collect the checks
 * of every matching limit, ask the store once, and turn the Decision into set-var actions.
 * A synchronous store answer stays synchronous (an array, no promise), so the memory store
 * keeps the engine on its no-promise fast path. The handler times the store call with the
 * injected clock and reports it with the decision (DecisionInfo.storeUs).
 * @module
 */
import type { HandlerResult, NotifyHandler } from "../agent/handler.ts";
import { isPromiseLike } from "../agent/promise-like.ts";
import type { Action, Message } from "../spop/types.ts";
import { compileIdentity } from "./identity/identity.ts";
import type { MatchedLimits, PolicySet } from "./policy/compile.ts";
import type { IdentityOptions, LimitDefinition } from "./policy/types.ts";
import type { Clock, Decision, LimiterStore } from "./store.ts";
import { ALL_ACK_VARIABLES, type AckSelection } from "./answer/ack-selection.ts";
import { decisionActions, failureActions, shadowDenials } from "./answer/variables.ts";
import { createPhaseHandler, type PhaseHandlerOptions, RESPONSE_MESSAGE_NAME } from "./response/phase-handler.ts";
import { phaseSpecOf } from "./response/phase-checks.ts";

/**
 * The SPOE message name the default limit listens to.
 *
 * @example Handle the shipped HAProxy configuration's message
 * ```ts
 * import { DEFAULT_MESSAGE_NAME, type Message } from "@spoa-gcra/spoa-gcra";
 *
 * const message: Message = { name: DEFAULT_MESSAGE_NAME, args: [] };
 * console.assert(message.name === "check-rate");
 * ```
 */
export const DEFAULT_MESSAGE_NAME = "check-rate";

/**
 * What one decision looked like, for metrics and decision logs.
 *
 * @example A decision log line
 * ```ts
 * import type { DecisionInfo } from "@spoa-gcra/spoa-gcra";
 *
 * const line = (info: DecisionInfo) => `${info.identity} ${info.allowed ? "allowed" : "denied"} by ${info.decidingLimit ?? "-"} in ${info.storeUs} µs`;
 * console.assert(typeof line === "function");
 * ```
 */
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
  /** How long the store took to answer, in µs by the handler's clock (0 without one). */
  readonly storeUs: number;
}

/**
 * Options of createRateLimitHandler.
 *
 * @example Log each decision
 * ```ts
 * import { compilePolicies, createRateLimitHandler, DEFAULT_IDENTITY_OPTIONS, MemoryStore, type RateLimitHandlerOptions } from "@spoa-gcra/spoa-gcra";
 * import { clock } from "@spoa-gcra/spoa-gcra/bun";
 *
 * const options: RateLimitHandlerOptions = {
 *   policies: compilePolicies([], { keyPrefix: "rl:" }),
 *   identity: DEFAULT_IDENTITY_OPTIONS,
 *   store: new MemoryStore({ clock }),
 *   failure: "allow",
 *   onDecision: (info) => console.log(info.identity, info.allowed, info.decidingLimit),
 * };
 * console.assert(typeof createRateLimitHandler(options).handle === "function");
 * ```
 */
export interface RateLimitHandlerOptions {
  /** The compiled limits; a reload builds a new handler (see app/policy-handler.ts). */
  readonly policies: PolicySet;
  readonly identity: IdentityOptions;
  readonly store: LimiterStore;
  /** The decision when `handle` throws or the store rejects. */
  readonly failure: "allow" | "deny";
  readonly onDecision?: (info: DecisionInfo) => void;
  /** Times each store call for `onDecision` (µs; a monotonic clock, e.g. from performance.now()). */
  readonly clock?: Clock;
  /** The variables the ACKs set (default: every one); the others are not computed. */
  readonly variables?: AckSelection;
  /**
   * The two-phase store and the ticket sealer, for limits with a response cost or a concurrency
   * limit (response/); required when the policies have such a limit.
   */
  readonly phases?: PhaseHandlerOptions;
}

const NO_ACTIONS: readonly Action[] = Object.freeze([]);

/**
 * Builds the shipped agent's NotifyHandler: resolve the client, match the policies, ask the
 * store, and answer `sess.<p>.ip_score`, `txn.<p>.allowed`, `retry_after` and the RateLimit
 * header variables.
 *
 * @param options Policies, identity options, the store, the failure decision and an optional decision hook.
 * @returns A handler for `new Agent({ handler })`.
 * @throws {RangeError} When a trusted-proxy CIDR is invalid.
 *
 * @example Rate-limit `check-rate` messages in memory
 * ```ts
 * import {
 *   compilePolicies, createRateLimitHandler, DEFAULT_IDENTITY_OPTIONS, gcraParams, type LimitDefinition, MemoryStore, parseRate,
 * } from "@spoa-gcra/spoa-gcra";
 * import { clock } from "@spoa-gcra/spoa-gcra/bun";
 *
 * const perClient: LimitDefinition = {
 *   name: "per-client", messages: ["check-rate"], match: [], key: [{ kind: "identity" }],
 *   count: 1, periodSeconds: 1, burst: 1, params: gcraParams(parseRate("1/s")!, 1), cost: { kind: "constant", value: 1 }, shadow: false,
 * };
 * const handler = createRateLimitHandler({
 *   policies: compilePolicies([perClient], { keyPrefix: "rl:" }),
 *   identity: DEFAULT_IDENTITY_OPTIONS,
 *   store: new MemoryStore({ clock }),
 *   failure: "allow",
 * });
 * const message = { name: "check-rate", args: [{ name: "ip_src", kind: "ipv4" as const, value: 0xc0000201 }] };
 * const context = { streamId: 1, frameId: 1, connectionId: 1 };
 * const score = (actions: unknown) => (actions as { name: string; value: { value: unknown } }[]).find((a) => a.name === "ip_score")?.value.value;
 * console.assert(score(await handler.handle([message], context)) === 0);
 * console.assert(score(await handler.handle([message], context)) === 100);
 * ```
 */
export function createRateLimitHandler(options: RateLimitHandlerOptions): NotifyHandler {
  const { policies: set, store, onDecision, clock } = options;
  const identity = compileIdentity(options.identity);
  const variables = options.variables ?? ALL_ACK_VARIABLES;
  const failure = failureActions(options.failure, variables);
  const phased = options.phases === undefined ? undefined : createPhaseHandler(options.phases);
  const needsPhases = set.limits.find((l) => phaseSpecOf(l) !== undefined);
  if (needsPhases !== undefined && phased === undefined) {
    throw new RangeError(`Limit "${needsPhases.name}" sees the response (a response cost or concurrency): the handler needs options.phases`);
  }

  const finish = (message: Message, who: string, matched: MatchedLimits, decision: Decision, startUs: number): readonly Action[] => {
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
        storeUs: clock === undefined ? 0 : clock.nowUs() - startUs,
      });
    }
    return decisionActions(decision, matched, variables);
  };

  const decide = (message: Message): readonly Action[] | PromiseLike<readonly Action[]> => {
    if (phased !== undefined && message.name === RESPONSE_MESSAGE_NAME) {
      const settled = phased.response(message);
      return isPromiseLike(settled) ? settled.then(() => NO_ACTIONS) : NO_ACTIONS;
    }
    if (!set.handles(message.name)) return NO_ACTIONS;
    const who = identity.resolve(message.args);
    const matched = set.checksFor(message, who);
    if (matched === undefined) return NO_ACTIONS;
    const startUs = onDecision === undefined || clock === undefined ? 0 : clock.nowUs();
    const phaseChecks = matched.phaseChecks;
    if (phased !== undefined && phaseChecks !== undefined) {
      const answer = phased.request({ ...matched, phaseChecks });
      const actions = (a: { decision: Decision; extra: readonly Action[] }) => {
        const base = finish(message, who, matched, a.decision, startUs);
        return a.extra.length === 0 ? base : [...base, ...a.extra];
      };
      return isPromiseLike(answer) ? answer.then(actions) : actions(answer);
    }
    const answer = store.check(matched.checks);
    if (isPromiseLike(answer)) return answer.then((decision) => finish(message, who, matched, decision, startUs));
    return finish(message, who, matched, answer, startUs);
  };

  return {
    handle(messages: readonly Message[]): HandlerResult {
      if (messages.length === 1) return decide(messages[0]);
      const parts: (readonly Action[] | PromiseLike<readonly Action[]>)[] = [];
      let pending = false;
      for (const message of messages) {
        const part = decide(message);
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
