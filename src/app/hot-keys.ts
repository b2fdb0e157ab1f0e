/**
 * Hot keys from slices (ratelimit/valkey/hot/), switched on by `store.valkey.hotKeyRate`: the
 * outermost store. Keys below the rate go to `decide` (the failure policy, breaker and deny cache
 * around Valkey) as before; a hot key's slices are reserved straight from Valkey with their own
 * deadline, so an open breaker or a dead Valkey sends a hot key to its share (limit ÷ agents),
 * not to the policy's full limit per agent.
 * @module
 */
import type { Clock, LimiterStore } from "../ratelimit/store.ts";
import { HotSliceStore } from "../ratelimit/valkey/hot/hot-slices.ts";

/** `decide` itself when `hotKeyRate` is 0 or absent; else hot keys from slices in front of it. */
export function withHotKeys(
  decide: LimiterStore,
  valkey: { evalScript?(routeKey: string, source: string, args: string[]): Promise<unknown> },
  options: { readonly hotKeyRate?: number; readonly deadlineMs: number; readonly clock: Clock },
): LimiterStore {
  const rate = options.hotKeyRate ?? 0;
  const evalScript = valkey.evalScript?.bind(valkey);
  if (rate <= 0 || evalScript === undefined) return decide;
  return new HotSliceStore({
    check: (checks) => decide.check(checks),
    evalScript,
    // The app closes `decide` itself; slices held at shutdown are at most N·S units (the bound).
    close: async () => {},
  }, { thresholdPerS: rate, agentId: crypto.randomUUID(), clock: options.clock, deadlineMs: options.deadlineMs });
}
