/**
 * An asynchronous handler with a deadline: HAProxy sends message `classify` with the user as
 * `user`; the handler asks a slow service for the user's plan and answers `txn.<prefix>.plan`.
 * The service gets `timeoutMs` to answer, well inside HAProxy's `timeout processing`: later,
 * or failing, the answer is the fallback plan, so HAProxy always hears back in time.
 */
import { dataText, findArg, type NotifyHandler, setVar, type Timers } from "@spoa-gcra/spoa-gcra";

export interface LookupHandlerOptions {
  /** The slow part: a database, an HTTP API … */
  readonly lookup: (user: string) => Promise<string>;
  readonly timeoutMs: number;
  /** The Agent's timers, so tests can use their own. */
  readonly timers: Timers;
  readonly fallback?: string;
}

/** Settles with `promise`, or with `fallback` once `ms` have passed or if it rejects. */
function within<T>(promise: Promise<T>, ms: number, timers: Timers, fallback: T): Promise<T> {
  return new Promise((resolve) => {
    const timer = timers.schedule(() => resolve(fallback), ms);
    promise.then(
      (value) => {
        timers.cancel(timer);
        resolve(value);
      },
      () => {
        timers.cancel(timer);
        resolve(fallback);
      },
    );
  });
}

export function lookupHandler(options: LookupHandlerOptions): NotifyHandler {
  const fallback = options.fallback ?? "standard";
  return {
    async handle(messages) {
      const plans = messages
        .filter((message) => message.name === "classify")
        .map((message) => {
          const user = findArg(message.args, "user");
          const name = user === undefined ? undefined : dataText(user);
          return name === undefined ? Promise.resolve(fallback) : within(options.lookup(name), options.timeoutMs, options.timers, fallback);
        });
      return (await Promise.all(plans)).map((plan) => setVar("txn", "plan", plan));
    },
    // Only reached if handle itself throws: the engine answers with these instead.
    failureActions: () => [setVar("txn", "plan", fallback)],
  };
}
