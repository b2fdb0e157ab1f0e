/**
 * A LimiterStore wrapper that reports how long each check took, without touching the
 * Decision (the memory store answers synchronously, so no promise is added for it).
 * @module
 */
import type { Decision, LimitCheck, LimiterStore } from "../ratelimit/store.ts";

/** Wraps `store`; `onTimed(decision, ms, sync)` runs once per answered check (`sync`: answered without a promise). */
export function timedStore(store: LimiterStore, onTimed: (decision: Decision, ms: number, sync: boolean) => void): LimiterStore {
  return {
    check(checks: readonly LimitCheck[]) {
      const start = performance.now();
      const answer = store.check(checks);
      if (answer instanceof Promise) {
        return answer.then((decision) => {
          onTimed(decision, performance.now() - start, false);
          return decision;
        });
      }
      onTimed(answer, performance.now() - start, true);
      return answer;
    },
    close: () => store.close(),
  };
}
