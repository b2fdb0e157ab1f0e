/**
 * Builds the limiter store the config asks for: the in-memory store (the embedded default),
 * or Valkey behind the failure policy, circuit breaker and local deny cache.
 * @module
 */
import type { AgentConfig } from "../config/schema.ts";
import type { Logger } from "../observe/log.ts";
import { DenyCache } from "../ratelimit/resilience/deny-cache.ts";
import { MemoryStore } from "../ratelimit/memory/store.ts";
import { ResilientStore, type StoreEvent } from "../ratelimit/resilience/resilient-store.ts";
import type { LimiterStore } from "../ratelimit/store.ts";
import { MemoryPhaseStore, type PhaseStore } from "../ratelimit/response/memory-phases.ts";
import { systemClock, systemTimers } from "../runtime/host-time.ts";
import { loadDialer } from "../runtime/dial.ts";
import { withHotKeys } from "./hot-keys.ts";
import { valkeyReadiness, watchValkey } from "./valkey-health.ts";
import { resetChannel } from "../ratelimit/store-admin.ts";
import type { AdminStores } from "./admin.ts";
import type { ValkeyStoreOptions } from "../ratelimit/valkey/options.ts";
import { SwitchableValkeyStore } from "../ratelimit/valkey/switchable.ts";
import { describeTarget, targetChanged } from "../ratelimit/valkey/target.ts";

/** The store plus what readiness and reload need to know about it. */
export interface BuiltStore {
  readonly store: LimiterStore;
  /** Readiness: can this process decide right now? */
  canDecide(): { readonly ok: boolean; readonly reason?: string };
  /** Called on a config reload: cached denials may belong to changed limits. */
  clearCaches(): void;
  /** Called on a config reload: a new Valkey address or secret is connected to, checked, and switched to. */
  reconfigure(next: AgentConfig): Promise<void>;
  /** Key-level access for the admin endpoint (inspect, reset). */
  readonly admin: AdminStores;
  /** With Valkey: what the background PING last concluded (undefined before its first answer). */
  readonly valkeyReachable?: () => boolean | undefined;
  /** The in-memory store: the store itself, or the `local` failure policy's fallback. */
  readonly memory: MemoryStore;
  /** The two phases of limits that see the response, over the same state as `store`. */
  readonly phases: PhaseStore;
  close(): Promise<void>;
}

/** Creates the configured store; Valkey being down at start is not an error (the policy decides). */
export async function buildStore(
  config: AgentConfig,
  deps: {
    readonly logger: Logger;
    /** Store events, Valkey round trips included (see StoreEvent). */
    readonly onEvent: (event: StoreEvent) => void;
    /** The memory store's key bound when sized to a memory limit (app/memory-limit.ts). */
    readonly memoryMaxKeys?: number;
  },
): Promise<BuiltStore> {
  const memory = new MemoryStore({ clock: systemClock, maxKeys: deps.memoryMaxKeys ?? config.store.memory.maxKeys });
  const memoryPhases = new MemoryPhaseStore({ memory, clock: systemClock });
  const valkeyOptions = config.store.valkey;
  if (config.store.kind === "memory" || valkeyOptions === undefined) {
    return {
      store: memory,
      memory,
      phases: memoryPhases,
      canDecide: () => ({ ok: true }),
      clearCaches: () => {},
      reconfigure: async () => {},
      admin: { kind: "memory", primary: memory, clock: systemClock },
      close: () => memory.close(),
    };
  }
  // Loaded only when configured: node-redis costs startup time and memory the in-memory agent
  // does not need.
  const { createValkeyStore } = await import("../ratelimit/valkey/store.ts");
  // denyCacheMaxKeys 0 turns the cache off (a DenyCache holds at least one key).
  const denyCache = config.store.denyCacheMaxKeys > 0 ? new DenyCache({ maxKeys: config.store.denyCacheMaxKeys }) : undefined;
  // Policy keys already start with store.keyPrefix (so memory and Valkey keys read alike).
  // Script calls leave on this runtime's own sockets (Bun.connect, Deno.connect; node:net on Node).
  const dial = await loadDialer();
  const open = (valkey: ValkeyStoreOptions) => createValkeyStore({ ...valkey, keyPrefix: "" }, {
    clock: systemClock,
    ...(dial === undefined ? {} : { dial }),
    log: (level, msg, fields) => deps.logger.log(level, msg, fields),
    onEvent: deps.onEvent,
    // A key reset anywhere (another agent's admin endpoint, `spoa-gcra reset`) is reset here too.
    resets: {
      channel: resetChannel(config.store.keyPrefix),
      onKey: (key) => {
        denyCache?.forget(key);
        memory.deleteKey(key);
      },
    },
  });
  // Calls already sent to a replaced Valkey get their deadline (and a margin) to answer there.
  const primary = new SwitchableValkeyStore(await open(valkeyOptions), { graceMs: 2 * valkeyOptions.deadlineMs + 1_000 });
  let running = valkeyOptions;
  let switching = Promise.resolve();
  // Readiness must not wait for traffic to notice an outage (see valkey-health.ts).
  const health = watchValkey({
    ping: () => primary.ping(),
    timers: systemTimers,
    now: Date.now,
    onChange: (reachable) => {
      if (reachable) deps.logger.info("valkey reachable again", {});
      else deps.logger.warn("valkey unreachable: PING unanswered", { failurePolicy: config.store.failurePolicy });
    },
  });
  const resilient = new ResilientStore({
    primary,
    fallback: memory,
    policy: config.store.failurePolicy,
    clock: systemClock,
    breaker: config.store.breaker,
    denyCache,
    onEvent: deps.onEvent,
    fallbackPhases: memoryPhases,
  });
  return {
    store: withHotKeys(resilient, primary, { hotKeyRate: valkeyOptions.hotKeyRate, deadlineMs: valkeyOptions.deadlineMs, clock: systemClock }),
    memory,
    phases: resilient,
    canDecide: () => valkeyReadiness({ policy: config.store.failurePolicy, breaker: resilient.breakerState, health }),
    valkeyReachable: () => health.reachable,
    clearCaches: () => resilient.clearDenyCache(),
    // Reloads switch one at a time; a target that fails stays unapplied, so the next reload retries it.
    reconfigure: (next) => (switching = switching.then(async () => {
      const wanted = next.store.valkey;
      if (wanted === undefined || !targetChanged(running, wanted)) return;
      const candidate = await open(wanted);
      if (!(await candidate.ping())) {
        await candidate.close();
        deps.logger.error("new Valkey settings do not answer PING; the running connections keep serving", { valkey: describeTarget(wanted) });
        return;
      }
      await primary.switchTo(candidate);
      running = wanted;
      deps.logger.info("valkey switched", { valkey: describeTarget(wanted) });
    }).catch((error: unknown) => {
      deps.logger.error("cannot switch to the new Valkey settings; the running connections keep serving", { error: String(error) });
    })),
    admin: { kind: "valkey", primary, fallback: memory, ...(denyCache === undefined ? {} : { denials: denyCache }), clock: systemClock },
    close: async () => {
      health.stop();
      await resilient.close();
      await memory.close();
    },
  };
}
