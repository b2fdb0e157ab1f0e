/**
 * "Who is being limited", wired: every decision of the agent's store feeds a TopTracker
 * (ratelimit/top/); windows rotate every minute; with Valkey each agent publishes its lists
 * every 5 s under `<keyPrefix>top` and any agent (or `spoa-gcra top`) reads all of them merged.
 * @module
 */
import type { AgentConfig } from "../config/schema.ts";
import type { Logger } from "../observe/log.ts";
import type { LimiterStore } from "../ratelimit/store.ts";
import { observedStore } from "../ratelimit/top/observed-store.ts";
import { TopTracker, type TopSnapshot } from "../ratelimit/top/top-tracker.ts";
import type { TopExchange } from "../ratelimit/valkey/top-exchange.ts";

/** How long one window lasts: lists cover the last one to two windows. */
export const TOP_WINDOW_MS = 60_000;
/** How often an agent publishes its lists to Valkey. */
export const TOP_PUBLISH_MS = 5_000;
/** A published list older than this no longer counts (its agent stopped or lost Valkey). */
export const TOP_MAX_AGE_MS = 3 * TOP_PUBLISH_MS;
/** Entries an agent publishes per list (of the 64 it keeps): enough for a merged top 20. */
const PUBLISHED_ENTRIES = 32;

/** The running lists. */
export interface TopLists {
  /** The store to decide with: the given one, observed. */
  readonly store: LimiterStore;
  /** This agent's lists, `n` entries each. */
  local(n?: number): TopSnapshot;
  /** Every agent's lists merged (Valkey), or this agent's alone (memory store, or Valkey unreachable). */
  merged(n?: number): Promise<TopSnapshot & { readonly source: "valkey" | "this agent" }>;
  close(): Promise<void>;
}

/** Starts the lists around `store`; with Valkey in the config, shares them through it. */
export async function startTopLists(config: AgentConfig, store: LimiterStore, deps: { readonly logger: Logger }): Promise<TopLists> {
  const tracker = new TopTracker();
  const agentId = crypto.randomUUID();
  const rotate = setInterval(() => tracker.rotate(), TOP_WINDOW_MS);
  let exchange: TopExchange | undefined;
  let publish: ReturnType<typeof setInterval> | undefined;
  const valkey = config.store.kind === "valkey" ? config.store.valkey : undefined;
  if (valkey !== undefined) {
    const { openTopExchange } = await import("../ratelimit/valkey/top-exchange.ts");
    // Policy keys carry store.keyPrefix already; the lists' key uses it too.
    exchange = await openTopExchange({ ...valkey, keyPrefix: config.store.keyPrefix }, { maxAgeMs: TOP_MAX_AGE_MS, waitMs: 0 });
    let failing = false;
    publish = setInterval(() => {
      exchange?.publish(agentId, tracker.snapshot(Date.now(), PUBLISHED_ENTRIES), Date.now()).then(() => (failing = false), (error: unknown) => {
        // Once per outage: the lists are a convenience, never on the decision path.
        if (!failing) deps.logger.warn("top lists not published to Valkey", { error: error instanceof Error ? error.message : String(error) });
        failing = true;
      });
    }, TOP_PUBLISH_MS);
  }
  // Timers must not keep a draining agent alive.
  for (const timer of [rotate, publish]) (timer as { unref?: () => void } | undefined)?.unref?.();
  const local = (n = 20) => tracker.snapshot(Date.now(), n);
  return {
    store: observedStore(store, tracker),
    local,
    merged: async (n = 20) => {
      if (exchange === undefined) return { ...local(n), source: "this agent" };
      // Our own latest first, so the answer includes what happened since the last publish.
      try {
        await exchange.publish(agentId, tracker.snapshot(Date.now(), PUBLISHED_ENTRIES), Date.now());
        const merged = await exchange.read(Date.now(), n);
        return { ...merged, source: "valkey" };
      } catch {
        return { ...local(n), source: "this agent" };
      }
    },
    close: async () => {
      clearInterval(rotate);
      clearInterval(publish);
      await exchange?.close();
    },
  };
}

/** Identities per limit and list on /metrics: the few an alert or a dashboard needs, never all. */
export const TOP_METRIC_ENTRIES = 3;
