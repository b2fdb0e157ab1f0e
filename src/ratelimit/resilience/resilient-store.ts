/**
 * The failure policy around the shared store: a circuit breaker, a local deny cache in front,
 * and a policy (`local` memory store, `allow`, `deny`) for when the shared store is slow,
 * failing or known bad. The shared store keeps its own deadline (the Valkey store's
 * `deadlineMs`) and rejects with `code: "timeout"` past it; this wrapper adds no second timer.
 * A store that names the node of each request (a cluster: its primary) gets one breaker per
 * node, so one dead primary sends only its own keys to the policy. Pure: time is injected.
 * @module
 */
import { isPromiseLike } from "../../agent/promise-like.ts";
import type { BreakerOptions, BreakerState, CircuitBreaker } from "./breaker.ts";
import { NodeBreakers } from "./node-breakers.ts";
import type { DenyCache } from "./deny-cache.ts";
import type { Clock, Decision, LimitCheck, LimiterStore, LimitResult } from "../store.ts";
import type { PhaseStore } from "../response/memory-phases.ts";
import type { PhaseCheck, PhaseDecision, Settlement, SettleResult } from "../response/phase.ts";

/**
 * What the wrapper does when the shared store cannot answer in time.
 *
 * @example From configuration text
 * ```ts
 * import type { FailurePolicy } from "@spoa-gcra/spoa-gcra";
 *
 * const policy = (text: string): FailurePolicy => (text === "allow" || text === "deny" ? text : "local");
 * console.assert(policy("deny") === "deny" && policy("") === "local");
 * ```
 */
export type FailurePolicy = "local" | "allow" | "deny";

/**
 * Why a decision was degraded.
 *
 * @example Label a metric
 * ```ts
 * import type { DegradedReason } from "@spoa-gcra/spoa-gcra";
 *
 * const counts: Record<DegradedReason, number> = { timeout: 0, error: 0, "breaker-open": 0 };
 * counts.timeout++;
 * console.assert(counts.timeout === 1);
 * ```
 */
export type DegradedReason = "timeout" | "error" | "breaker-open";

/**
 * Events for metrics and logs.
 *
 * @example Count degraded decisions by reason
 * ```ts
 * import { MemoryStore, ResilientStore, type StoreEvent } from "@spoa-gcra/spoa-gcra";
 * import { clock } from "@spoa-gcra/spoa-gcra/bun";
 *
 * const degraded = new Map<string, number>();
 * const onEvent = (event: StoreEvent) => {
 *   if (event.kind === "degraded") degraded.set(event.reason, (degraded.get(event.reason) ?? 0) + 1);
 * };
 * const down = { check: () => Promise.reject(new Error("down")), close: async () => {} };
 * const store = new ResilientStore({ primary: down, fallback: new MemoryStore({ clock }), policy: "allow", clock, onEvent });
 * await store.check([{ key: "k", params: { emissionIntervalUs: 1000, burstToleranceUs: 0 }, cost: 1, shadow: false }]);
 * console.assert(degraded.get("error") === 1);
 * ```
 */
export type StoreEvent =
  | { readonly kind: "degraded"; readonly reason: DegradedReason }
  /** The shared store answered one decision after `seconds` (successful calls only). */
  | { readonly kind: "round-trip"; readonly seconds: number }
  | { readonly kind: "late-reply" }
  /** A node's breaker changed (`node` "" for a single-node store); `state` is the worst over all nodes. */
  | { readonly kind: "breaker"; readonly state: BreakerState; readonly node: string; readonly nodeState: BreakerState }
  | { readonly kind: "deny-cache-hit" }
  | { readonly kind: "store-error"; readonly error: unknown };

/**
 * A shared store that knows which node answers a request (a Valkey cluster: the slot's primary).
 *
 * @example One breaker per shard
 * ```ts
 * import { MemoryStore, type NodeAwareStore } from "@spoa-gcra/spoa-gcra";
 *
 * const inner = new MemoryStore({ clock: { nowUs: () => 0 } });
 * const sharded: NodeAwareStore = {
 *   check: (checks) => inner.check(checks),
 *   close: () => inner.close(),
 *   nodeOf: (checks) => (checks[0]?.key.includes("{1") ? "shard-a" : "shard-b"),
 * };
 * console.assert(sharded.nodeOf?.([{ key: "rl:{10.0.0.1}:api", params: { emissionIntervalUs: 1, burstToleranceUs: 0 }, cost: 1, shadow: false }]) === "shard-a");
 * ```
 */
export interface NodeAwareStore extends LimiterStore, Partial<PhaseStore> {
  /** The node `checks` go to; "" when there is one node. */
  nodeOf?(checks: readonly LimitCheck[]): string;
}

/**
 * Options of the wrapper.
 *
 * @example Fail closed, with a breaker and a deny cache
 * ```ts
 * import { DenyCache, MemoryStore, ResilientStore, type ResilientStoreOptions } from "@spoa-gcra/spoa-gcra";
 * import { clock } from "@spoa-gcra/spoa-gcra/bun";
 *
 * const shared = new MemoryStore({ clock }); // stands in for the Valkey store here
 * const options: ResilientStoreOptions = {
 *   primary: shared,
 *   fallback: new MemoryStore({ clock }),
 *   policy: "deny",
 *   clock,
 *   denyCache: new DenyCache(),
 *   onEvent: (event) => console.log(event.kind),
 * };
 * const store = new ResilientStore(options);
 * const decision = await store.check([{ key: "k", params: { emissionIntervalUs: 1000, burstToleranceUs: 0 }, cost: 1, shadow: false }]);
 * console.assert(decision.allowed && !decision.degraded);
 * await store.close();
 * ```
 */
export interface ResilientStoreOptions {
  /** The shared store; it must settle every check within its own deadline (timeouts reject with `code: "timeout"`). */
  readonly primary: NodeAwareStore;
  /** A MemoryStore, used by the `local` policy. */
  readonly fallback: LimiterStore;
  readonly policy: FailurePolicy;
  readonly clock: Clock;
  readonly breaker?: BreakerOptions;
  readonly denyCache?: DenyCache;
  readonly onEvent?: (event: StoreEvent) => void;
  /** The two phases (response/phase.ts) in memory, used by the `local` policy when the primary's phases fail. */
  readonly fallbackPhases?: PhaseStore;
}

/** Retry-After the `deny` policy announces: the store's state is unknown, so a short fixed wait. */
const DENY_POLICY_RETRY_US = 1_000_000;

const UNKNOWN: LimitResult = { allowed: true, neverPasses: false, retryAfterUs: 0, remaining: 0, resetUs: 0 };

function firstEnforcing(checks: readonly LimitCheck[]): number {
  return checks.findIndex((c) => !c.shadow);
}

/** The `allow`/`deny` policies' answer: every enforcing check gets the policy's verdict. */
export function policyDecision(checks: readonly LimitCheck[], allowed: boolean): Decision {
  const results = checks.map((c): LimitResult =>
    allowed || c.shadow ? UNKNOWN : { allowed: false, neverPasses: false, retryAfterUs: DENY_POLICY_RETRY_US, remaining: 0, resetUs: 0 }
  );
  return { allowed, decidingIndex: firstEnforcing(checks), results, degraded: true };
}

/**
 * A denial answered from the deny cache: check `index` is denied for `retryUs`; the other
 * checks were not evaluated (reported as allowed with nothing known).
 */
function cachedDenial(checks: readonly LimitCheck[], index: number, retryUs: number): Decision {
  const results = checks.map((c, i): LimitResult => {
    if (i !== index) return UNKNOWN;
    const t = c.params.emissionIntervalUs;
    const capacity = c.params.burstToleranceUs + t;
    // Denied means retry = tat + cost·T − capacity − now, so reset (tat − now) follows.
    const resetUs = retryUs + capacity - c.cost * t;
    return { allowed: false, neverPasses: false, retryAfterUs: retryUs, remaining: Math.max(0, Math.floor((capacity - resetUs) / t)), resetUs };
  });
  return { allowed: false, decidingIndex: index, results, degraded: false };
}

function isTimeout(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as { code?: unknown }).code === "timeout";
}

/**
 * A LimiterStore that never fails and waits no longer than the primary's deadline (plus the
 * fallback): per-node circuit breakers, an optional deny cache, and a failure policy — `local`
 * (decide in memory), `allow` or `deny` — when the shared store times out, errs or is broken.
 *
 * @example Fall back to memory when the shared store fails
 * ```ts
 * import { type LimiterStore, MemoryStore, ResilientStore } from "@spoa-gcra/spoa-gcra";
 * import { clock } from "@spoa-gcra/spoa-gcra/bun";
 *
 * const broken: LimiterStore = { check: () => Promise.reject(new Error("connection refused")), close: async () => {} };
 * const events: string[] = [];
 * const store = new ResilientStore({ primary: broken, fallback: new MemoryStore({ clock }), policy: "local", clock, onEvent: (e) => events.push(e.kind) });
 * const decision = await store.check([{ key: "rl:{192.0.2.1}:api", params: { emissionIntervalUs: 1000, burstToleranceUs: 0 }, cost: 1, shadow: false }]);
 * console.assert(decision.allowed && decision.degraded && events.includes("degraded"));
 * await store.close();
 * ```
 */
export class ResilientStore implements LimiterStore {
  readonly #o: ResilientStoreOptions;
  readonly #breakers: NodeBreakers;
  readonly #emit: (event: StoreEvent) => void;

  /** @param options The shared and the fallback store, the failure policy, the clock and the breaker and deny-cache settings. */
  constructor(options: ResilientStoreOptions) {
    this.#o = options;
    this.#emit = options.onEvent ?? (() => {});
    this.#breakers = new NodeBreakers({
      ...options.breaker,
      clock: options.clock,
      onChange: (c) => this.#emit({ kind: "breaker", state: c.worst, node: c.node, nodeState: c.state }),
    });
  }

  /** The worst breaker state over the store's nodes, for readiness and metrics. */
  get breakerState(): BreakerState {
    return this.#breakers.worst;
  }

  /**
   * The nodes whose breaker is open or half-open ("valkey" for a single-node store).
   *
   * @returns Their names; empty while every breaker is closed.
   */
  nodesNotClosed(): string[] {
    return this.#breakers.notClosed();
  }

  /** Forget every remembered denial (e.g. after a config reload changed the limits). */
  clearDenyCache(): void {
    this.#o.denyCache?.clear();
  }

  /**
   * Decides through the shared store, or by the failure policy when it cannot.
   *
   * @param checks Every limit of one request.
   * @returns The decision (`degraded` when the failure policy made it); never rejects.
   */
  check(checks: readonly LimitCheck[]): Decision | Promise<Decision> {
    const cached = this.#fromDenyCache(checks);
    if (cached) return cached;
    const primary = this.#o.primary;
    const breaker = this.#breakers.of(primary.nodeOf === undefined ? "" : primary.nodeOf(checks));
    if (!breaker.tryAcquire()) return this.#degrade(checks, "breaker-open");
    // The store evaluated the request at some moment after this one, so a denial's retry-after
    // counted from here ends no later than the true one: the cached denial stays exact.
    const sentUs = this.#o.clock.nowUs();
    let answer: Decision | Promise<Decision>;
    try {
      answer = primary.check(checks);
    } catch (error) {
      return this.#failed(checks, error, breaker);
    }
    if (!isPromiseLike(answer)) return this.#succeeded(checks, answer, sentUs, breaker);
    return answer.then((decision) => this.#succeeded(checks, decision, sentUs, breaker), (error: unknown) => this.#failed(checks, error, breaker));
  }

  #succeeded(checks: readonly LimitCheck[], decision: Decision, sentUs: number, breaker: CircuitBreaker): Decision {
    breaker.success();
    const cache = this.#o.denyCache;
    if (cache && !decision.allowed) {
      decision.results.forEach((r, i) => {
        // A denial never moves the TAT, and other agents can only push it later: it holds until sent + retry.
        if (!r.allowed && !r.neverPasses && r.retryAfterUs > 0 && !checks[i].shadow) {
          cache.remember(checks[i].key, checks[i].cost, sentUs + r.retryAfterUs);
        }
      });
    }
    return decision;
  }

  #failed(checks: readonly LimitCheck[], error: unknown, breaker: CircuitBreaker): Decision | Promise<Decision> {
    this.#emit({ kind: "store-error", error });
    if (!isTimeout(error)) {
      breaker.failure();
      return this.#degrade(checks, "error");
    }
    breaker.timeout();
    return this.#degrade(checks, "timeout");
  }

  #fromDenyCache(checks: readonly LimitCheck[]): Decision | undefined {
    const cache = this.#o.denyCache;
    if (!cache || cache.size === 0) return undefined;
    const now = this.#o.clock.nowUs();
    for (let i = 0; i < checks.length; i++) {
      const c = checks[i];
      if (c.shadow) continue;
      const retry = cache.lookup(c.key, c.cost, now);
      if (retry !== undefined) {
        this.#emit({ kind: "deny-cache-hit" });
        return cachedDenial(checks, i, retry);
      }
    }
    return undefined;
  }

  #degrade(checks: readonly LimitCheck[], reason: DegradedReason): Decision | Promise<Decision> {
    this.#emit({ kind: "degraded", reason });
    if (this.#o.policy === "allow") return policyDecision(checks, true);
    if (this.#o.policy === "deny") return policyDecision(checks, false);
    const local = this.#o.fallback.check(checks);
    const mark = (d: Decision): Decision => ({ ...d, degraded: true });
    return isPromiseLike(local) ? local.then(mark) : mark(local);
  }

  /**
   * The request phase (response/phase.ts) through the shared store, or by the failure policy.
   * No deny cache: a response may refund, so a denial here is not sure to last its Retry-After.
   *
   * @param checks Every limit of one request, in PhaseCheck form.
   * @param leaseId The request's lease id.
   * @returns The decision (`degraded` when the failure policy made it); never rejects.
   */
  request(checks: readonly PhaseCheck[], leaseId: string): PhaseDecision | Promise<PhaseDecision> {
    const phases = this.#phases(checks);
    if (phases === undefined) return this.#degradePhase(checks, leaseId, "error");
    const { store, breaker } = phases;
    if (!breaker.tryAcquire()) return this.#degradePhase(checks, leaseId, "breaker-open");
    const failed = (error: unknown) => {
      this.#emit({ kind: "store-error", error });
      if (isTimeout(error)) breaker.timeout();
      else breaker.failure();
      return this.#degradePhase(checks, leaseId, isTimeout(error) ? "timeout" : "error");
    };
    try {
      const answer = store.request(checks, leaseId);
      if (!isPromiseLike(answer)) return (breaker.success(), answer);
      return answer.then((decision) => (breaker.success(), decision), failed);
    } catch (error) {
      return failed(error);
    }
  }

  /**
   * The response phase through the shared store; when it fails, the `local` policy settles in
   * memory and the others drop the settlement (counted as a store error; a lease then frees at its ttl).
   *
   * @param settlements The ticket's entries with the response's actual costs.
   * @param leaseId The request's lease id.
   * @returns One result per settlement (none when the settlement was dropped); never rejects.
   */
  response(settlements: readonly Settlement[], leaseId: string): SettleResult[] | Promise<SettleResult[]> {
    const checks = settlements.map((s): LimitCheck => ({ key: s.key, params: s.params, cost: 0, shadow: true }));
    const phases = this.#phases(checks);
    const fallback = () => (this.#o.policy === "local" && this.#o.fallbackPhases !== undefined ? this.#o.fallbackPhases.response(settlements, leaseId) : []);
    if (phases === undefined || !phases.breaker.tryAcquire()) return fallback();
    const { store, breaker } = phases;
    const failed = (error: unknown) => {
      this.#emit({ kind: "store-error", error });
      if (isTimeout(error)) breaker.timeout();
      else breaker.failure();
      return fallback();
    };
    try {
      const answer = store.response(settlements, leaseId);
      if (!isPromiseLike(answer)) return (breaker.success(), answer);
      return answer.then((results) => (breaker.success(), results), failed);
    } catch (error) {
      return failed(error);
    }
  }

  #phases(checks: readonly LimitCheck[]): { readonly store: PhaseStore; readonly breaker: CircuitBreaker } | undefined {
    const primary = this.#o.primary;
    if (primary.request === undefined || primary.response === undefined) return undefined;
    const breaker = this.#breakers.of(primary.nodeOf === undefined ? "" : primary.nodeOf(checks));
    return { store: primary as PhaseStore, breaker };
  }

  #degradePhase(checks: readonly PhaseCheck[], leaseId: string, reason: DegradedReason): PhaseDecision | Promise<PhaseDecision> {
    this.#emit({ kind: "degraded", reason });
    const fallback = this.#o.fallbackPhases;
    if (this.#o.policy === "local" && fallback !== undefined) {
      const local = fallback.request(checks, leaseId);
      const mark = (d: PhaseDecision): PhaseDecision => ({ ...d, degraded: true });
      return isPromiseLike(local) ? local.then(mark) : mark(local);
    }
    const decision = policyDecision(checks, this.#o.policy !== "deny");
    return { ...decision, results: decision.results.map((r) => ({ ...r, leaseDenied: false, inFlight: 0 })) };
  }

  /** Closes both stores. */
  async close(): Promise<void> {
    await Promise.all([this.#o.primary.close(), this.#o.fallback.close()]);
  }
}
