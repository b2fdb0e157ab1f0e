/**
 * The Valkey limiter store: one GCRA script call per request (or per tick and slot when
 * batching), a deadline per decision, EVALSHA with an EVAL fallback, round-robin over
 * pipelined connections.
 * @module
 */
import { createHash } from "node:crypto";
import { GCRA_LUA } from "../gcra-lua.ts";
import type { PhaseStore } from "../response/memory-phases.ts";
import type { PhaseCheck, PhaseDecision, Settlement, SettleResult } from "../response/phase.ts";
import { PHASE_LUA } from "../response/phase-lua.ts";
import type { StoreEvent } from "../resilience/resilient-store.ts";
import type { Clock, Decision, LimitCheck, LimiterStore } from "../store.ts";
import type { KeyAdmin, StoredKey } from "../store-admin.ts";
import { CheckBatcher } from "./check-batch.ts";
import { encodeBatch, validateChecks } from "./codec.ts";
import { openConnection, type ValkeyConnection } from "./connection.ts";
import { mergeDecisions, tagGroups } from "./cross-slot.ts";
import { asStoreError, errorMessage, ValkeyStoreError } from "./errors.ts";
import { announceReset, deleteKey, peekKey } from "./key-admin.ts";
import { type LogFn, throttledLog } from "./log-throttle.ts";
import { topologyOf, type ValkeyStoreOptions } from "./options.ts";
import { PhaseCalls } from "./phase-calls.ts";
import type { Dialer } from "./pipeline/dial.ts";
import { nodeDialer } from "./pipeline/node-dial.ts";
import { leanScriptPath, type ScriptPath } from "./pipeline/script-path.ts";
import { loadScript, runScript, type Script } from "./script-call.ts";

/**
 * What the store needs from its host.
 *
 * @example Host hooks
 * ```ts
 * import { clock } from "@spoa-gcra/spoa-gcra/bun";
 * import type { ValkeyStoreDeps } from "@spoa-gcra/spoa-gcra/valkey";
 *
 * const deps: ValkeyStoreDeps = { clock, log: (level, msg) => console.log(level, msg), connectWaitMs: 500 };
 * console.assert(deps.connectWaitMs === 500);
 * ```
 */
export interface ValkeyStoreDeps {
  readonly clock: Clock;
  readonly log?: LogFn;
  /** Round trips, late replies and connection errors, for metrics. */
  readonly onEvent?: (event: StoreEvent) => void;
  /** How long creation waits for a first connection before answering anyway (default 2000). */
  readonly connectWaitMs?: number;
  /**
   * Key resets on this channel (store-admin.ts resetChannel): `onKey` hears every key any agent
   * or `spoa-gcra reset` announced, and announceReset announces there.
   */
  readonly resets?: { readonly channel: string; readonly onKey: (key: string) => void };
  /**
   * How batched GCRA calls reach Valkey: the runtime's own socket (the app passes it), node:net
   * when absent, or `false` for node-redis only (pipeline/script-path.ts says what stays there).
   */
  readonly dial?: Dialer | false;
}

/**
 * A LimiterStore backed by Valkey, plus a readiness probe and single-key admin access.
 *
 * @example Readiness from PING
 * ```ts
 * import { clock } from "@spoa-gcra/spoa-gcra/bun";
 * import { createValkeyStore, type ValkeyStore } from "@spoa-gcra/spoa-gcra/valkey";
 *
 * const store: ValkeyStore = await createValkeyStore(
 *   { url: "redis://127.0.0.1:1", keyPrefix: "rl:", deadlineMs: 10, connections: 1, batch: false },
 *   { clock, connectWaitMs: 50 },
 * );
 * console.assert((await store.ping()) === false); // nothing listens on port 1
 * await store.close();
 * ```
 */
export interface ValkeyStore extends LimiterStore, KeyAdmin, PhaseStore {
  /** Publishes reset keys on `deps.resets.channel`; rejects without one. */
  announceReset(keys: readonly string[]): Promise<void>;
  /** True when Valkey answered PING within max(deadline, 1 s). */
  ping(): Promise<boolean>;
  /** The node `checks` go to: a cluster's primary for their slot ("host:port"), "" otherwise. */
  nodeOf(checks: readonly LimitCheck[]): string;
  /** Replies that arrived after their decision's deadline (counted and ignored). */
  readonly lateReplies: number;
  /**
   * Runs a Lua script (EVALSHA, loading it on NOSCRIPT) on the node of `routeKey`; `args` are
   * `[numkeys, ...keys, ...argv]`. No deadline: the caller bounds it (hot/slices.ts does).
   * Optional: stores that wrap this one need not forward it.
   */
  evalScript?(routeKey: string, source: string, args: string[]): Promise<unknown>;
}

const scriptOf = (source: string): Script => ({ source, sha: createHash("sha1").update(source).digest("hex") });
const GCRA: Script = scriptOf(GCRA_LUA);
/** The two phases of limits that see the response (response/phase-lua.ts), batched per tick by phase-calls.ts. */
const PHASES: Script = scriptOf(PHASE_LUA);
/** Scripts run through evalScript, by source (a handful, fixed at load: hot-key slices). */
const scripts = new Map<string, Script>();

/**
 * The store itself: routes GCRA requests to the check batcher (check-batch.ts), the two phases to
 * phase-calls.ts, admin calls to the first connection; every script call takes the next
 * connection in turn.
 */
class ValkeyLimiterStore implements ValkeyStore {
  readonly #connections: readonly ValkeyConnection[];
  readonly #options: ValkeyStoreOptions;
  readonly #deps: ValkeyStoreDeps;
  readonly #report: ReturnType<typeof throttledLog>;
  readonly #byTag: boolean;
  readonly #checks: CheckBatcher;
  /** The two-phase script's calls (limits that see the response), batched per tick. */
  readonly #phases: PhaseCalls;
  readonly #lean: ScriptPath | undefined;
  #next = 0;
  #closed = false;

  constructor(connections: readonly ValkeyConnection[], options: ValkeyStoreOptions, deps: ValkeyStoreDeps, byTag: boolean, lean?: ScriptPath) {
    this.#connections = connections;
    this.#lean = lean;
    this.#options = options;
    this.#deps = deps;
    this.#byTag = byTag;
    this.#report = throttledLog(deps.log, deps.clock);
    const onEvent = deps.onEvent === undefined ? {} : { onEvent: deps.onEvent };
    this.#checks = new CheckBatcher({
      options,
      byTag,
      connections: connections.length,
      call: (routeKey, requests) => {
        const conn = this.#connection();
        const classic = () => runScript(conn, routeKey, encodeBatch(requests, options.keyPrefix), GCRA);
        return this.#lean === undefined ? classic() : this.#lean.run(routeKey, requests, classic);
      },
      report: this.#report,
      ...onEvent,
    });
    this.#phases = new PhaseCalls({
      send: (routeKey, args) => runScript(this.#connection(), routeKey, args, PHASES),
      deadlineMs: options.deadlineMs,
      byTag,
      keyPrefix: options.keyPrefix,
      closed: () => this.#closed,
      ...onEvent,
      failure: (error) => {
        const storeError = asStoreError(error);
        this.#report(`call-${storeError.code}`, "Valkey call failed", { code: storeError.code, error: errorMessage(error) });
        return storeError;
      },
    });
  }

  /** The next connection in turn, for a script call. */
  #connection(): ValkeyConnection {
    return this.#connections[this.#next++ % this.#connections.length];
  }

  get lateReplies(): number {
    return this.#checks.lateReplies;
  }

  check(checks: readonly LimitCheck[]): Decision | Promise<Decision> {
    if (checks.length === 0) return { allowed: true, decidingIndex: -1, results: [], degraded: false };
    if (this.#closed) return Promise.reject(new ValkeyStoreError("closed", "Valkey store is closed"));
    validateChecks(checks);
    if (this.#byTag && checks.length > 1) {
      const groups = tagGroups(checks, this.#options.keyPrefix);
      if (groups !== undefined) return this.#acrossSlots(checks, groups);
    }
    return this.#checks.run(checks);
  }

  /** A cluster request over several hash tags (cross-slot.ts): one call per tag, denied if any denies. */
  async #acrossSlots(checks: readonly LimitCheck[], groups: readonly number[][]): Promise<Decision> {
    this.#report("cross-slot", "limits of one request live in different cluster slots: decided per slot (not atomically across them)", {
      // The limit part of each key (`name:paramsHash`), not the client's identity.
      limits: checks.map((c) => c.key.slice(c.key.lastIndexOf("}") + 2)),
    });
    const decisions = await Promise.all(groups.map((group) => this.check(group.map((i) => checks[i]))));
    return mergeDecisions(checks, groups, decisions);
  }

  request(checks: readonly PhaseCheck[], leaseId: string): Promise<PhaseDecision> {
    return this.#phases.request(checks, leaseId);
  }

  response(settlements: readonly Settlement[], leaseId: string): Promise<SettleResult[]> {
    return this.#phases.response(settlements, leaseId);
  }

  // Admin calls (inspect, reset) share the first connection; they are rare and never batched.
  peekKey(key: string): Promise<StoredKey> {
    return peekKey(this.#connections[0], this.#options.keyPrefix + key);
  }

  deleteKey(key: string): Promise<number | undefined> {
    return deleteKey(this.#connections[0], this.#options.keyPrefix + key);
  }

  async announceReset(keys: readonly string[]): Promise<void> {
    const channel = this.#deps.resets?.channel;
    if (channel === undefined) throw new ValkeyStoreError("config", "no reset channel configured: other agents were not told");
    await announceReset(this.#connections[0], channel, keys.map((k) => this.#options.keyPrefix + k));
  }

  evalScript(routeKey: string, source: string, args: string[]): Promise<unknown> {
    if (this.#closed) return Promise.reject(new ValkeyStoreError("closed", "Valkey store is closed"));
    let script = scripts.get(source);
    if (script === undefined) scripts.set(source, (script = scriptOf(source)));
    return runScript(this.#connection(), this.#options.keyPrefix + routeKey, args, script).catch((error: unknown) => {
      throw asStoreError(error);
    });
  }

  nodeOf(checks: readonly LimitCheck[]): string {
    return checks.length === 0 ? "" : this.#connections[0].nodeOf(this.#options.keyPrefix + checks[0].key);
  }

  async ping(): Promise<boolean> {
    if (this.#closed) return false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), Math.max(this.#options.deadlineMs, 1000));
    });
    const answer = this.#connections[0].ping().then((reply) => reply === "PONG", () => false);
    try {
      return await Promise.race([answer, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#lean?.close();
    await Promise.all(this.#connections.map((c) => c.close()));
  }
}

/**
 * Connects to Valkey (standalone `url`, cluster `nodes`, or `sentinels` + `masterName`) and
 * returns a store. Does not fail when Valkey is down: calls then reject with
 * `ValkeyStoreError` ("unavailable"/"timeout") and the failure policy decides.
 *
 * @param options Where Valkey is (URL, cluster seeds or Sentinels), credentials, TLS, key prefix, deadline, connections, batching.
 * @param deps The clock, and optional log and event hooks.
 * @returns The store, once connected or after `connectWaitMs`.
 * @throws {ValkeyStoreError} Code "config" for unusable options.
 *
 * @example A store that is up before Valkey is
 * ```ts
 * import { clock } from "@spoa-gcra/spoa-gcra/bun";
 * import { createValkeyStore, ValkeyStoreError } from "@spoa-gcra/spoa-gcra/valkey";
 *
 * const store = await createValkeyStore(
 *   { url: "redis://127.0.0.1:1", keyPrefix: "rl:", deadlineMs: 10, connections: 1, batch: true },
 *   { clock, connectWaitMs: 50 },
 * );
 * const check = { key: "rl:{192.0.2.1}:api", params: { emissionIntervalUs: 1000, burstToleranceUs: 0 }, cost: 1, shadow: false };
 * const error = await Promise.resolve(store.check([check])).catch((e) => e);
 * console.assert(error instanceof ValkeyStoreError && ["unavailable", "timeout"].includes(error.code));
 * await store.close();
 * ```
 */
export async function createValkeyStore(options: ValkeyStoreOptions, deps: ValkeyStoreDeps): Promise<ValkeyStore> {
  const topology = topologyOf(options);
  const report = throttledLog(deps.log, deps.clock);
  const onError = (kind: string, error: unknown) => {
    report(kind, "Valkey connection error", { error: errorMessage(error) });
    // The reset subscription is not on the decision path: logged, not counted as a store error.
    if (!kind.includes("subscriber")) deps.onEvent?.({ kind: "store-error", error: asStoreError(error) });
  };
  const count = Math.max(1, Math.floor(options.connections));
  const connections = await Promise.all(
    Array.from({ length: count }, () => openConnection(topology, {
      store: options,
      onError,
      waitMs: deps.connectWaitMs ?? 2000,
      warmup: ["SCRIPT", "LOAD", GCRA_LUA],
    })),
  );
  // Cache the script before the first decision, so a cold start costs no NOSCRIPT round trip.
  // Valkey may be down now: that is the failure policy's business, not a startup error.
  await Promise.all(connections.map((conn) => loadScript(conn, "", GCRA).catch(() => undefined)));
  const resets = deps.resets;
  if (resets !== undefined) {
    const prefix = options.keyPrefix;
    // Keys are announced in full; the listener gets them as the store's callers name them.
    await connections[0].subscribe(resets.channel, (key) => {
      if (key.startsWith(prefix)) resets.onKey(key.slice(prefix.length));
    });
  }
  const lean = deps.dial === false ? undefined : leanScriptPath(topology, {
    store: options,
    dial: deps.dial ?? nodeDialer,
    nodeOf: (routeKey) => connections[0].nodeOf(routeKey),
    onError: (error) => onError("script-socket", error),
  });
  // The raw sockets connect beside node-redis' (a standalone's now, a cluster's on first use);
  // until one is ready its batches go through node-redis, so this wait is short.
  await lean?.settle(Math.min(200, deps.connectWaitMs ?? 2000));
  return new ValkeyLimiterStore(connections, options, deps, topology.kind === "cluster", lean);
}
