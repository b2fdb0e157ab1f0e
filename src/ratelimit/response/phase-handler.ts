/**
 * The handler's side of limits that see the response. The request phase decides through the
 * phase store and adds two variables to the usual ones: `txn.<p>.ticket` (the signed ticket,
 * only when allowed and some limit needs the response) and `txn.<p>.deny_status` (on a denial
 * by a concurrency limit, the status it asks for). The response message (RESPONSE_MESSAGE_NAME)
 * carries the ticket back with the response's cost arguments; the agent verifies it, reads the
 * actual costs, and settles — answering with no variables: nothing the response phase learns
 * changes what HAProxy does with this response.
 * @module
 */
import { isPromiseLike } from "../../agent/promise-like.ts";
import type { Action, Message } from "../../spop/types.ts";
import type { MatchedLimits } from "../policy/compile.ts";
import { findArg } from "../policy/args.ts";
import { VarName } from "../answer/variable-names.ts";
import { type CostRefusal, responseCost } from "./cost-arg.ts";
import type { PhaseStore } from "./memory-phases.ts";
import type { PhaseCheck, PhaseDecision, Settlement } from "./phase.ts";
import type { TicketEntry, TicketSealer } from "./ticket.ts";

/**
 * The SPOE message HAProxy sends on `event on-http-response` (see deploy/haproxy/spoe-ratelimit.conf).
 *
 * @example The message the rate-limit handler settles
 * ```ts
 * import { RESPONSE_MESSAGE_NAME } from "@spoa-gcra/spoa-gcra";
 *
 * console.assert(RESPONSE_MESSAGE_NAME === "check-response");
 * ```
 */
export const RESPONSE_MESSAGE_NAME = "check-response";
/** The response message's argument carrying the ticket: `ticket=var(txn.<p>.ticket)`. */
export const TICKET_ARG = "ticket";

/**
 * Response-phase input the agent refused. `forged`/`malformed`: the ticket (nothing changes);
 * `cost-*`: one limit's actual cost (its state keeps the estimate; its lease is still released).
 *
 * @example A metric label
 * ```ts
 * import type { ResponseIssue } from "@spoa-gcra/spoa-gcra";
 *
 * const reason = (issue: ResponseIssue) => ("limit" in issue ? `${issue.kind}:${issue.limit}` : issue.kind);
 * console.assert(reason({ kind: "cost-negative", limit: "tokens" }) === "cost-negative:tokens");
 * ```
 */
export type ResponseIssue =
  | { readonly kind: "forged" | "malformed" }
  | { readonly kind: `cost-${CostRefusal}`; readonly limit: string };

/**
 * What the phase path needs from the handler's options.
 *
 * @example In memory, with the core's HMAC
 * ```ts
 * import { MemoryPhaseStore, MemoryStore, type PhaseHandlerOptions, ticketSealer } from "@spoa-gcra/spoa-gcra";
 *
 * const clock = { nowUs: () => 0 };
 * const options: PhaseHandlerOptions = {
 *   phases: new MemoryPhaseStore({ memory: new MemoryStore({ clock }), clock }),
 *   tickets: ticketSealer(new TextEncoder().encode("the fleet's secret")),
 *   onIssue: (issue) => console.warn("response refused", issue.kind),
 * };
 * console.assert(options.leaseId === undefined);
 * ```
 */
export interface PhaseHandlerOptions {
  readonly phases: PhaseStore;
  readonly tickets: TicketSealer;
  /** A lease id unique across the fleet (default: a random prefix and a counter). */
  readonly leaseId?: () => string;
  readonly onIssue?: (issue: ResponseIssue) => void;
}

/** Lease ids: a random prefix per handler (Math.random: unique, not secret) and a counter. */
export function leaseIds(): () => string {
  const prefix = Math.floor(Math.random() * 2 ** 52).toString(36);
  let n = 0;
  return () => `${prefix}.${(n++).toString(36)}`;
}

function entriesOf(matched: MatchedLimits, checks: readonly PhaseCheck[]): TicketEntry[] {
  const entries: TicketEntry[] = [];
  for (let i = 0; i < checks.length; i++) {
    const c = checks[i];
    if (c.rate !== "postpaid" && c.lease === undefined) continue;
    const cost = matched.limits[i].cost;
    entries.push({
      name: matched.limits[i].name,
      key: c.key,
      params: c.params,
      rate: c.rate,
      estimate: c.rate === "postpaid" ? c.cost : 0,
      lease: c.lease !== undefined,
      costArg: cost.kind === "response" ? cost.arg : "",
      costMax: cost.kind === "response" ? cost.max : 0,
    });
  }
  return entries;
}

/** The two phases for one handler. */
export interface PhaseHandler {
  /** The request phase: the decision, and the ticket/deny-status actions to append to the usual ones. */
  request(matched: MatchedLimits & { readonly phaseChecks: readonly PhaseCheck[] }): PromiseLike<PhasedAnswer> | PhasedAnswer;
  /** The response phase of one response message; resolves once settled (or refused). */
  response(message: Message): void | PromiseLike<void>;
}

/** The request phase's decision and the actions it adds. */
export interface PhasedAnswer {
  readonly decision: PhaseDecision;
  readonly extra: readonly Action[];
}

/** Builds the phase side of a rate-limit handler. */
export function createPhaseHandler(options: PhaseHandlerOptions): PhaseHandler {
  const { phases, tickets } = options;
  const nextId = options.leaseId ?? leaseIds();
  const report = options.onIssue ?? (() => {});

  const extraActions = (matched: MatchedLimits, checks: readonly PhaseCheck[], decision: PhaseDecision, leaseId: string): Action[] => {
    if (!decision.allowed) {
      const i = decision.decidingIndex;
      const c = i >= 0 ? matched.limits[i].concurrency : undefined;
      if (c === undefined || !decision.results[i].leaseDenied) return [];
      return [{ type: "set-var", scope: "txn", name: VarName.denyStatus, value: { kind: "int32", value: c.denyStatus } }];
    }
    const entries = entriesOf(matched, checks);
    if (entries.length === 0) return [];
    return [{ type: "set-var", scope: "txn", name: VarName.ticket, value: { kind: "string", value: tickets.seal({ leaseId, entries }) } }];
  };

  return {
    request(matched) {
      const checks = matched.phaseChecks;
      const leaseId = nextId();
      const answer = phases.request(checks, leaseId);
      const done = (decision: PhaseDecision): PhasedAnswer => ({ decision, extra: extraActions(matched, checks, decision, leaseId) });
      return isPromiseLike(answer) ? answer.then(done) : done(answer);
    },
    response(message) {
      const arg = findArg(message.args, TICKET_ARG);
      // No ticket: the request had no limit that sees the response, or was denied. Nothing to do.
      if (arg === undefined || arg.kind !== "string" || arg.value === "") return;
      const ticket = tickets.open(arg.value);
      if ("refused" in ticket) return report({ kind: ticket.refused });
      const settlements: Settlement[] = ticket.entries.map((e) => {
        let actual: number | undefined;
        if (e.rate === "postpaid") {
          const cost = responseCost(findArg(message.args, e.costArg), e.costMax);
          if (typeof cost === "number") actual = cost;
          else report({ kind: `cost-${cost.refused}`, limit: e.name });
        }
        return { key: e.key, params: e.params, rate: e.rate, estimate: e.estimate, actual, lease: e.lease };
      });
      const settled = phases.response(settlements, ticket.leaseId);
      if (isPromiseLike(settled)) return settled.then(() => {});
    },
  };
}
