/**
 * Keeps an idle agent informed about Valkey: a PING every couple of seconds, whatever the
 * traffic, so readiness can say "Valkey is gone" before the first request pays for finding out.
 * The circuit breaker only learns from requests; this learns from the clock.
 * @module
 */
import type { Timers } from "../agent/transport.ts";

/** One PING every 2 s: cheap for Valkey (one command per agent), quick enough for a 5 s readiness probe. */
export const PING_INTERVAL_MS = 2_000;
/** Consecutive failed PINGs before Valkey counts as unreachable: one lost PING is not an outage. */
export const FAILURES_TO_DOWN = 2;
/**
 * PING interval while Valkey is unknown (startup) or unreachable: readiness must turn to "not
 * ready" within a moment of starting against a dead Valkey, and back to "reachable" within a
 * moment of it healing, not a whole PING_INTERVAL_MS later.
 */
export const RECHECK_INTERVAL_MS = 500;

/** What the pinger knows. */
export interface ValkeyHealth {
  /** undefined until the first PING settles; false after FAILURES_TO_DOWN failures in a row. */
  readonly reachable: boolean | undefined;
  /** Milliseconds since `reachable` last changed (0 before the first answer). */
  sinceMs(): number;
  stop(): void;
}

/** Starts PINGing; `ping` resolves true on PONG and false (never rejects) on anything else. */
export function watchValkey(options: {
  readonly ping: () => Promise<boolean>;
  readonly timers: Timers;
  /** Milliseconds, any origin. */
  readonly now: () => number;
  readonly intervalMs?: number;
  /** Called when `reachable` flips (not on the first answer when Valkey is up). */
  readonly onChange?: (reachable: boolean) => void;
}): ValkeyHealth {
  const intervalMs = options.intervalMs ?? PING_INTERVAL_MS;
  let reachable: boolean | undefined;
  let changedAt = options.now();
  let failures = 0;
  let stopped = false;
  let handle: unknown;

  const settle = (answered: boolean) => {
    failures = answered ? 0 : failures + 1;
    // Before the first answer there is no "up" to smooth over: the first failure means down.
    const next = answered ? true : failures >= FAILURES_TO_DOWN || reachable === undefined ? false : reachable;
    if (next !== reachable) {
      const first = reachable === undefined;
      reachable = next;
      changedAt = options.now();
      if (next !== undefined && !(first && next)) options.onChange?.(next);
    }
  };
  const tick = () => {
    handle = undefined;
    // One PING in flight at a time: the next is scheduled when this one settles (the store's
    // ping has its own timeout), so a hung Valkey never piles PINGs up.
    options.ping().then(settle, () => settle(false)).finally(() => {
      if (!stopped) handle = options.timers.schedule(tick, reachable === true && failures === 0 ? intervalMs : Math.min(intervalMs, RECHECK_INTERVAL_MS));
    });
  };
  tick();
  return {
    get reachable() {
      return reachable;
    },
    sinceMs: () => (reachable === undefined ? 0 : options.now() - changedAt),
    stop() {
      stopped = true;
      if (handle !== undefined) options.timers.cancel(handle);
    },
  };
}

/**
 * Readiness from the failure policy, the breaker and the pinger. Under `deny` an unreachable
 * Valkey means every request is denied, so the agent is not ready; under `local` and `allow`
 * it still decides every request, so it stays ready and only says why decisions are degraded.
 */
export function valkeyReadiness(state: {
  readonly policy: "local" | "allow" | "deny";
  readonly breaker: string;
  readonly health: Pick<ValkeyHealth, "reachable" | "sinceMs">;
}): { readonly ok: boolean; readonly reason?: string } {
  const problems: string[] = [];
  if (state.health.reachable === undefined) problems.push("not answered yet (first PING pending)");
  if (state.health.reachable === false) problems.push(`unreachable for ${Math.round(state.health.sinceMs() / 1000)} s (PING unanswered)`);
  if (state.breaker !== "closed") problems.push(`circuit breaker ${state.breaker}`);
  if (problems.length === 0) return { ok: true };
  const what = `valkey ${problems.join(", ")}`;
  if (state.policy === "deny") return { ok: false, reason: `${what} and failure policy is deny` };
  return { ok: true, reason: `${what}; failure policy ${state.policy} decides` };
}
