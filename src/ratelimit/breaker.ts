/**
 * A circuit breaker for the shared store: after N consecutive failures it opens, so an outage
 * costs no deadline per request; after a backoff that doubles on each failed probe (250 ms ×2
 * up to 30 s) one probe request may try again, and a success closes it.
 * Transitions are computed from the injected clock when asked, so the breaker needs no timer.
 * @module
 */
import type { Clock } from "./store.ts";

/** Breaker states, as shown by readiness and metrics. */
export type BreakerState = "closed" | "open" | "half-open";

/** Tuning; every field has a default. */
export interface BreakerOptions {
  /** Consecutive failures that open the breaker (default 5). */
  readonly failureThreshold?: number;
  /** First open period (default 250 ms). */
  readonly initialBackoffMs?: number;
  /** Longest open period (default 30 000 ms). */
  readonly maxBackoffMs?: number;
  /** Growth of the open period after each failed probe (default 2). */
  readonly multiplier?: number;
}

/** The breaker's state machine: closed → open → half-open (one probe) → closed or open again. */
export class CircuitBreaker {
  readonly #clock: Clock;
  readonly #threshold: number;
  readonly #initialUs: number;
  readonly #maxUs: number;
  readonly #multiplier: number;
  readonly #onChange: (state: BreakerState) => void;
  #state: BreakerState = "closed";
  #failures = 0;
  #backoffUs: number;
  #openUntilUs = 0;
  #probeInFlight = false;

  constructor(options: BreakerOptions & { readonly clock: Clock; readonly onChange?: (state: BreakerState) => void }) {
    this.#clock = options.clock;
    this.#threshold = Math.max(1, options.failureThreshold ?? 5);
    this.#initialUs = (options.initialBackoffMs ?? 250) * 1000;
    this.#maxUs = (options.maxBackoffMs ?? 30_000) * 1000;
    this.#multiplier = options.multiplier ?? 2;
    this.#backoffUs = this.#initialUs;
    this.#onChange = options.onChange ?? (() => {});
  }

  /** The current state (an open breaker whose backoff has passed reads as half-open). */
  get state(): BreakerState {
    if (this.#state === "open" && this.#clock.nowUs() >= this.#openUntilUs) this.#set("half-open");
    return this.#state;
  }

  /**
   * May a call go to the store now? Closed: yes. Open: no. Half-open: yes for exactly one
   * probe at a time; its outcome must be reported with `success()` or `failure()`.
   */
  tryAcquire(): boolean {
    const state = this.state;
    if (state === "closed") return true;
    if (state === "open" || this.#probeInFlight) return false;
    this.#probeInFlight = true;
    return true;
  }

  /** A call succeeded: close and reset the backoff. */
  success(): void {
    this.#failures = 0;
    this.#probeInFlight = false;
    this.#backoffUs = this.#initialUs;
    if (this.#state !== "closed") this.#set("closed");
  }

  /** A call failed or timed out: count it; open when the threshold is reached or a probe failed. */
  failure(): void {
    this.#failures++;
    if (this.#state === "half-open" && this.#probeInFlight) {
      this.#probeInFlight = false;
      this.#backoffUs = Math.min(this.#backoffUs * this.#multiplier, this.#maxUs);
      this.#open();
    } else if (this.#state === "closed" && this.#failures >= this.#threshold) {
      this.#open();
    }
  }

  #open(): void {
    this.#openUntilUs = this.#clock.nowUs() + this.#backoffUs;
    this.#set("open");
  }

  #set(state: BreakerState): void {
    this.#state = state;
    this.#onChange(state);
  }
}
