/**
 * Hot keys decided from slices. A key whose requests on this agent exceed `thresholdPerS`
 * stops costing a script call per decision: the agent reserves a slice of the key's budget
 * from Valkey in one atomic step (slice-lua.ts) and allows from it locally until it is used,
 * then reserves the next. Denials are cached until the script's retry-after (exact: no one can
 * bring that moment forward). Slices adapt to the key's rate here and to the number of agents
 * reserving on it (presence in Valkey):
 *
 *   S = clamp(round(min(localRate, limitRate / N) × sliceMs), 1, max(1, ⌊B / N⌋))
 *
 * with B = ⌊τ / T⌋ + 1 the burst and N the agents present. The bound (docs/valkey.md,
 * "Hot keys"): in any window of length w, allowed ≤ B + ⌊w / T⌋ + N·S ≤ B + ⌊w / T⌋ + max(N, B)
 * — exact GCRA's maximum plus the slices other agents may hold unspent — and at most N·S units
 * are held back from other agents at any moment (given back when a slice is replaced or the
 * key cools). With Valkey unreachable a hot key falls back to its share: a local GCRA at
 * limitRate / N with burst ⌊B / N⌋ (degraded), not the full limit per agent.
 *
 * Only single-limit, enforcing requests of cost ≥ 1 take slices (a multi-limit request must
 * commit all or nothing in one script); everything else goes to the inner store unchanged.
 * @module
 */
import { MemoryStore } from "../../memory/store.ts";
import type { Clock, Decision, LimitCheck, LimiterStore } from "../../store.ts";
import { SpaceSaving } from "../../top/space-saving.ts";
import { SLICE_LUA } from "./slice-lua.ts";

/** How hot keys are found and sliced. */
export interface HotSliceOptions {
  /** Requests per second on this agent above which a key is decided from slices. */
  readonly thresholdPerS: number;
  /** A slice should last this long at the key's rate (default 100 ms): fewer calls, larger slices. */
  readonly sliceMs?: number;
  /** Agents count as present this long after their last reservation (default 2000 ms). */
  readonly presenceMs?: number;
  /** How long a reservation may take before the hot key falls back to its share (default 50 ms). */
  readonly deadlineMs?: number;
  /** This agent's name in the presence sets. */
  readonly agentId: string;
  readonly clock: Clock;
}

/** What the slices need from the Valkey store: one script call on a key's node. */
export interface ScriptRunner extends LimiterStore {
  evalScript(routeKey: string, source: string, args: string[]): Promise<unknown>;
  /** The node a request goes to (per-node breakers), when the store knows it. */
  nodeOf?(checks: readonly LimitCheck[]): string;
}

/** Counters a benchmark or test reads. */
export interface HotSliceStats {
  reservations: number;
  /** The largest slice granted so far (the bound's S). */
  largestSlice: number;
  localAllows: number;
  localDenials: number;
  fallbacks: number;
}

interface HotKey {
  ratePerS: number;
  /** The limit's parameters, from the last request (to give units back when the key cools). */
  params: LimitCheck["params"] | undefined;
  agents: number;
  /** Units reserved and not yet spent. */
  units: number;
  /** Denied locally until then (µs; the script's retry-after). */
  deniedUntilUs: number;
  /** After a failed reservation, the share decides until then without asking Valkey (µs). */
  fallbackUntilUs: number;
  resetUs: number;
  reserving: Promise<void> | undefined;
}

const WINDOW_US = 1_000_000;
/** A failed reservation is not retried for this long: a slow Valkey costs one deadline, not one per request. */
const RETRY_AFTER_FAILURE_US = 1_000_000;
/** A key stays hot until its rate falls below half the threshold: no flapping at the edge. */
const COOL_FACTOR = 0.5;

function result(allowed: boolean, retryAfterUs: number, remaining: number, resetUs: number): Decision {
  return { allowed, decidingIndex: 0, degraded: false, results: [{ allowed, neverPasses: false, retryAfterUs, remaining, resetUs }] };
}

/** Enforcing, cost ≥ 1, and able to pass at all (cost × T ≤ τ + T: the slice script's want then always fits). */
function sliceable(check: LimitCheck): boolean {
  const { emissionIntervalUs: T, burstToleranceUs: tau } = check.params;
  return !check.shadow && check.cost >= 1 && check.cost * T <= tau + T;
}

/** A LimiterStore that decides hot keys from slices and everything else through `inner`. */
export class HotSliceStore implements LimiterStore {
  readonly stats: HotSliceStats = { reservations: 0, largestSlice: 0, localAllows: 0, localDenials: 0, fallbacks: 0 };
  readonly #inner: ScriptRunner;
  readonly #options: Required<HotSliceOptions>;
  readonly #rates = new SpaceSaving(256);
  readonly #hot = new Map<string, HotKey>();
  readonly #share: MemoryStore;
  #windowEndUs: number;

  constructor(inner: ScriptRunner, options: HotSliceOptions) {
    this.#inner = inner;
    this.#options = { sliceMs: 100, presenceMs: 2000, deadlineMs: 50, ...options };
    this.#share = new MemoryStore({ clock: options.clock });
    this.#windowEndUs = options.clock.nowUs() + WINDOW_US;
  }

  /** The inner store's node for `checks`: the resilience layer keeps one breaker per node. */
  nodeOf(checks: readonly LimitCheck[]): string {
    return this.#inner.nodeOf?.(checks) ?? "";
  }

  /** Keys decided from slices right now. */
  get hotKeys(): readonly string[] {
    return [...this.#hot.keys()];
  }

  check(checks: readonly LimitCheck[]): Decision | Promise<Decision> {
    const now = this.#options.clock.nowUs();
    if (now >= this.#windowEndUs) this.#rotate(now);
    if (checks.length !== 1 || !sliceable(checks[0])) return this.#inner.check(checks);
    const check = checks[0];
    this.#rates.add(check.key, check.cost);
    const hot = this.#hot.get(check.key);
    if (hot === undefined) return this.#inner.check(checks);
    hot.params = check.params;
    return this.#decide(hot, check, now);
  }

  #decide(hot: HotKey, check: LimitCheck, now: number): Decision | Promise<Decision> {
    if (hot.units >= check.cost) {
      hot.units -= check.cost;
      this.stats.localAllows++;
      return result(true, 0, hot.units, hot.resetUs);
    }
    if (now < hot.deniedUntilUs) {
      this.stats.localDenials++;
      return result(false, hot.deniedUntilUs - now, 0, hot.resetUs);
    }
    if (now < hot.fallbackUntilUs) return this.#fallback(hot, check);
    if (hot.reserving === undefined) {
      hot.reserving = this.#reserve(hot, check).then(() => (hot.reserving = undefined), (error: unknown) => {
        hot.reserving = undefined;
        hot.fallbackUntilUs = this.#options.clock.nowUs() + RETRY_AFTER_FAILURE_US;
        throw error;
      });
    }
    // Everyone who found the slice empty waits for the one reservation, then tries again.
    return hot.reserving.then(() => this.#afterReserve(hot, check), () => this.#fallback(hot, check));
  }

  #afterReserve(hot: HotKey, check: LimitCheck): Decision | Promise<Decision> {
    const now = this.#options.clock.nowUs();
    // The key may have cooled meanwhile; it is still ours to decide for this request.
    return this.#decide(hot, check, now);
  }

  /** One script call: give back nothing, reserve a slice sized to the rate and the agents. */
  async #reserve(hot: HotKey, check: LimitCheck): Promise<void> {
    const { emissionIntervalUs: T, burstToleranceUs: tau } = check.params;
    const want = Math.max(check.cost, this.#sliceSize(hot, check));
    this.stats.reservations++;
    const reply = await this.#withDeadline(this.#inner.evalScript(check.key, SLICE_LUA, [
      "2", check.key, `${check.key}:agents`,
      String(T), String(tau), String(want), this.#options.agentId, String(this.#options.presenceMs), "0",
    ]));
    if (!Array.isArray(reply) || reply.length !== 4) throw new RangeError("Cannot decode slice reply");
    const [granted, retryUs, agents, resetUs] = reply.map(Number);
    hot.units += granted;
    this.stats.largestSlice = Math.max(this.stats.largestSlice, granted);
    hot.agents = Math.max(1, agents);
    hot.resetUs = resetUs;
    hot.deniedUntilUs = granted >= check.cost ? 0 : this.#options.clock.nowUs() + Math.max(1, retryUs);
  }

  /** S = clamp(round(min(localRate, limitRate / N) × sliceMs), 1, max(1, ⌊B / N⌋)). */
  #sliceSize(hot: HotKey, check: LimitCheck): number {
    const { emissionIntervalUs: T, burstToleranceUs: tau } = check.params;
    const limitPerS = 1e6 / T;
    const burst = Math.floor(tau / T) + 1;
    const cap = Math.max(1, Math.floor(burst / hot.agents));
    const rate = Math.min(hot.ratePerS, limitPerS / hot.agents);
    return Math.min(cap, Math.max(1, Math.round((rate * this.#options.sliceMs) / 1000)));
  }

  /** Valkey did not answer: this agent's share of the limit, locally (limit ÷ agents). */
  #fallback(hot: HotKey, check: LimitCheck): Decision | Promise<Decision> {
    this.stats.fallbacks++;
    const { emissionIntervalUs: T, burstToleranceUs: tau } = check.params;
    const n = hot.agents;
    const burst = Math.max(1, Math.floor((Math.floor(tau / T) + 1) / n));
    const params = { emissionIntervalUs: T * n, burstToleranceUs: (burst - 1) * T * n };
    const decision = this.#share.check([{ ...check, params }]);
    return decision instanceof Promise ? decision.then((d) => ({ ...d, degraded: true })) : { ...decision, degraded: true };
  }

  #withDeadline<T>(call: Promise<T>): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`slice reservation took over ${this.#options.deadlineMs} ms`)), this.#options.deadlineMs);
    });
    return Promise.race([call, deadline]).finally(() => clearTimeout(timer));
  }

  /** Once a second: keys above the threshold become hot; those below half of it give their units back. */
  #rotate(now: number): void {
    const seconds = (now - this.#windowEndUs + WINDOW_US) / 1e6;
    this.#windowEndUs = now + WINDOW_US;
    const rates = new Map(this.#rates.top().map((e) => [e.item, (e.count - e.error) / seconds]));
    this.#rates.clear();
    const threshold = this.#options.thresholdPerS;
    for (const [key, hot] of this.#hot) {
      const rate = rates.get(key) ?? 0;
      if (rate >= threshold * COOL_FACTOR) {
        hot.ratePerS = rate;
        continue;
      }
      this.#hot.delete(key);
      if (hot.units > 0) void this.#giveBack(key, hot).catch(() => undefined);
    }
    for (const [key, rate] of rates) {
      if (rate >= threshold && !this.#hot.has(key)) {
        this.#hot.set(key, { ratePerS: rate, params: undefined, agents: 1, units: 0, deniedUntilUs: 0, fallbackUntilUs: 0, resetUs: 0, reserving: undefined });
      }
    }
  }

  /** Returns the unspent units of a key that cooled (want 0, giveBack n). */
  #giveBack(key: string, hot: HotKey): Promise<unknown> {
    const { params, units } = hot;
    hot.units = 0;
    if (params === undefined) return Promise.resolve();
    return this.#inner.evalScript(key, SLICE_LUA, [
      "2", key, `${key}:agents`,
      String(params.emissionIntervalUs), String(params.burstToleranceUs), "0", this.#options.agentId, String(this.#options.presenceMs), String(units),
    ]);
  }

  async close(): Promise<void> {
    for (const [key, hot] of this.#hot) if (hot.units > 0) await this.#giveBack(key, hot).catch(() => undefined);
    this.#hot.clear();
    await this.#share.close();
    await this.#inner.close();
  }
}
