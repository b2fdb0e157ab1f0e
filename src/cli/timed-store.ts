/**
 * A LimiterStore wrapper that reports how long each check took, without touching the
 * Decision (the memory store answers synchronously, so no promise is added for it).
 * @module
 */
import type { Decision, LimitCheck, LimiterStore } from "../ratelimit/store.ts";

/** Wraps `store`; `onTimed(decision, ms)` runs once per answered check. */
export function timedStore(store: LimiterStore, onTimed: (decision: Decision, ms: number) => void): LimiterStore {
  return {
    check(checks: readonly LimitCheck[]) {
      const start = performance.now();
      const answer = store.check(checks);
      if (answer instanceof Promise) {
        return answer.then((decision) => {
          onTimed(decision, performance.now() - start);
          return decision;
        });
      }
      onTimed(answer, performance.now() - start);
      return answer;
    },
    close: () => store.close(),
  };
}
