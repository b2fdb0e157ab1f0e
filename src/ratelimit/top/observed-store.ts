/**
 * A LimiterStore that tells a TopTracker about every decision it returns; answers stay
 * synchronous where the inner store's are.
 * @module
 */
import type { Decision, LimitCheck, LimiterStore } from "../store.ts";
import type { TopTracker } from "./top-tracker.ts";

/** `store`, with each decision also recorded in `tracker`. */
export function observedStore(store: LimiterStore, tracker: TopTracker): LimiterStore {
  return {
    check(checks: readonly LimitCheck[]): Decision | Promise<Decision> {
      const decision = store.check(checks);
      if (decision instanceof Promise) {
        return decision.then((d) => {
          tracker.observe(checks, d);
          return d;
        });
      }
      tracker.observe(checks, decision);
      return decision;
    },
    close: () => store.close(),
  };
}
