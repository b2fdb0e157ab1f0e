/**
 * A circuit breaker for the shared store that opens on a sustained failure share, not on a few
 * deadline misses under load.
 *
 * - Errors (refused, closed, failed replies) are hard evidence: `failureThreshold` of them in a
 *   row open it at once.
 * - Errors and deadline misses together open it when they are at least `failureRatio` of the
 *   calls of the last `windowMs` (once `minimumCalls` calls were seen). A few misses while the
 *   store is saturated stay far below that; a store that answers every call after its deadline,
 *   or not at all (a partition, a blackhole), reaches it. Misses are judged once their 100 ms
 *   bucket has closed, so one stalled batch at the start of a window cannot open it alone; a
 *   silent store opens it within about one bucket (`windowMs / 10`) plus the deadline.
 * - Open: no call goes through until a backoff passes (250 ms, doubling on each failed probe up
 *   to 5 s); then one probe may try, and only its answer within the deadline closes the breaker.
 *   The cap bounds how long decisions stay on the failure policy after the store is back; one
 *   probe per agent every 5 s is nothing to a store that is still down.
 *
 * Transitions are computed from the injected clock when asked, so the breaker needs no timer.
 * @module
 */
import type { Clock } from "../store.ts";

/**
 * Breaker states, as shown by readiness and metrics.
 *
 * @example Readiness from the breaker
 * ```ts
 * import { type BreakerState, MemoryStore, ResilientStore } from "@spoa-gcra/spoa-gcra";
 *
 * const store = new ResilientStore({ primary: new MemoryStore({ clock: { nowUs: () => 0 } }), fallback: new MemoryStore({ clock: { nowUs: () => 0 } }), policy: "local", clock: { nowUs: () => 0 } });
 * const state: BreakerState = store.breakerState;
 * console.assert(state === "closed");
 * ```
 */
export type BreakerState = "closed" | "open" | "half-open";

/**
 * Tuning; every field has a default.
 *
 * @example Open sooner, probe later
 * ```ts
 * import { type BreakerOptions, MemoryStore, ResilientStore } from "@spoa-gcra/spoa-gcra";
 *
 * const breaker: BreakerOptions = { failureThreshold: 3, initialBackoffMs: 1_000 };
 * const clock = { nowUs: () => 0 };
 * const store = new ResilientStore({ primary: new MemoryStore({ clock }), fallback: new MemoryStore({ clock }), policy: "local", clock, breaker });
 * console.assert(store.nodesNotClosed().length === 0);
 * ```
 */
export interface BreakerOptions {
  /** Consecutive errors (not deadline misses) that open the breaker (default 5). */
  readonly failureThreshold?: number;
  /** Share of failed calls over the window that opens the breaker (default 0.5). */
  readonly failureRatio?: number;
  /** Calls the window must hold before the ratio counts (default 20). */
  readonly minimumCalls?: number;
  /** Length of the sliding window, in 10 buckets (default 1000 ms). */
  readonly windowMs?: number;
  /** First open period (default 250 ms). */
  readonly initialBackoffMs?: number;
  /** Longest open period (default 5 000 ms). */
  readonly maxBackoffMs?: number;
  /** Growth of the open period after each failed probe (default 2). */
  readonly multiplier?: number;
}

const BUCKETS = 10;

/** Outcomes of one bucket of the window. */
interface Bucket {
  startUs: number;
  successes: number;
  errors: number;
  misses: number;
}

/** The breaker's state machine: closed → open → half-open (one probe) → closed or open again. */
export class CircuitBreaker {
  readonly #clock: Clock;
  readonly #threshold: number;
  readonly #ratio: number;
  readonly #minimumCalls: number;
  readonly #bucketUs: number;
  readonly #initialUs: number;
  readonly #maxUs: number;
  readonly #multiplier: number;
  readonly #onChange: (state: BreakerState) => void;
  readonly #buckets: Bucket[];
  #current = 0;
  #state: BreakerState = "closed";
  #consecutiveErrors = 0;
  #backoffUs: number;
  #openUntilUs = 0;
  #probeInFlight = false;

  constructor(options: BreakerOptions & { readonly clock: Clock; readonly onChange?: (state: BreakerState) => void }) {
    this.#clock = options.clock;
    this.#threshold = Math.max(1, options.failureThreshold ?? 5);
    this.#ratio = Math.min(1, Math.max(0.01, options.failureRatio ?? 0.5));
    this.#minimumCalls = Math.max(1, options.minimumCalls ?? 20);
    this.#bucketUs = Math.max(1, ((options.windowMs ?? 1000) * 1000) / BUCKETS);
    this.#initialUs = (options.initialBackoffMs ?? 250) * 1000;
    this.#maxUs = (options.maxBackoffMs ?? 5_000) * 1000;
    this.#multiplier = options.multiplier ?? 2;
    this.#backoffUs = this.#initialUs;
    this.#onChange = options.onChange ?? (() => {});
    this.#buckets = Array.from({ length: BUCKETS }, () => ({ startUs: -Infinity, successes: 0, errors: 0, misses: 0 }));
  }

  /** The current state (an open breaker whose backoff has passed reads as half-open). */
  get state(): BreakerState {
    if (this.#state === "open" && this.#clock.nowUs() >= this.#openUntilUs) this.#set("half-open");
    return this.#state;
  }

  /**
   * May a call go to the store now? Closed: yes. Open: no. Half-open: yes for exactly one
   * probe at a time; its outcome must be reported (success, failure or timeout).
   */
  tryAcquire(): boolean {
    if (this.#state === "closed") return true;
    const state = this.state;
    if (state === "open" || this.#probeInFlight) return false;
    this.#probeInFlight = true;
    return true;
  }

  /** A call was answered in time: a probe closes the breaker. */
  success(): void {
    this.#consecutiveErrors = 0;
    if (this.#state === "closed") {
      this.#bucket().successes++;
      return;
    }
    this.#probeInFlight = false;
    this.#backoffUs = this.#initialUs;
    this.#set("closed");
  }

  /** A call failed with an error: hard evidence, counted at once. */
  failure(): void {
    if (this.#probeFailed()) return;
    this.#bucket().errors++;
    this.#consecutiveErrors++;
    if (this.#consecutiveErrors >= this.#threshold) this.#open();
    else this.#judge();
  }

  /** A call missed its deadline: a failure for the window's share, not for the run of errors. */
  timeout(): void {
    if (this.#probeFailed()) return;
    this.#bucket().misses++;
    this.#judge();
  }

  /** In half-open, a failed probe re-opens with a longer backoff; true when that happened. */
  #probeFailed(): boolean {
    if (this.#state === "closed") return false;
    if (this.state === "half-open" && this.#probeInFlight) {
      this.#probeInFlight = false;
      this.#backoffUs = Math.min(this.#backoffUs * this.#multiplier, this.#maxUs);
      this.#open();
    }
    return true; // outcomes of calls sent before the breaker opened change nothing
  }

  /** Opens when the window's failure share reaches the ratio. */
  #judge(): void {
    const nowUs = this.#clock.nowUs();
    const oldestUs = nowUs - BUCKETS * this.#bucketUs;
    let calls = 0, failures = 0;
    for (let i = 0; i < BUCKETS; i++) {
      const b = this.#buckets[i];
      if (b.startUs <= oldestUs) continue;
      calls += b.successes + b.errors + b.misses;
      failures += b.errors;
      // Misses of the current bucket wait: one batch that stalled just now is not a trend.
      if (i !== this.#current) failures += b.misses;
    }
    if (calls >= this.#minimumCalls && failures >= this.#ratio * calls) this.#open();
  }

  /** The bucket of now, starting a new one (and forgetting the oldest) when its time is up. */
  #bucket(): Bucket {
    const nowUs = this.#clock.nowUs();
    let b = this.#buckets[this.#current];
    if (nowUs - b.startUs < this.#bucketUs) return b;
    this.#current = (this.#current + 1) % BUCKETS;
    b = this.#buckets[this.#current];
    b.startUs = nowUs;
    b.successes = b.errors = b.misses = 0;
    return b;
  }

  #open(): void {
    this.#openUntilUs = this.#clock.nowUs() + this.#backoffUs;
    this.#consecutiveErrors = 0;
    for (const b of this.#buckets) b.startUs = -Infinity; // a closed breaker starts a fresh window
    this.#set("open");
  }

  #set(state: BreakerState): void {
    this.#state = state;
    this.#onChange(state);
  }
}
