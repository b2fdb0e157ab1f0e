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
import { decodeRequestPhase, decodeResponsePhase, type PhaseOp, requestPhaseOp, responsePhaseOp } from "../response/phase-codec.ts";
import { PhaseBatcher } from "./phase-batch.ts";
import { PHASE_LUA } from "../response/phase-lua.ts";
import { hashTagOf } from "../identity/keys.ts";
import type { StoreEvent } from "../resilience/resilient-store.ts";
import type { Clock, Decision, LimitCheck, LimiterStore } from "../store.ts";
import type { KeyAdmin, StoredKey } from "../store-admin.ts";
import { announceReset, deleteKey, peekKey } from "./key-admin.ts";
import { decodeBatch, encodeBatch } from "./codec.ts";
import { mergeDecisions, tagGroups } from "./cross-slot.ts";
import { openConnection, type ValkeyConnection } from "./connection.ts";
import type { Dialer } from "./pipeline/dial.ts";
import { nodeDialer } from "./pipeline/node-dial.ts";
import { leanScriptPath, type ScriptPath } from "./pipeline/script-path.ts";
import { errorMessage, ValkeyStoreError } from "./errors.ts";
import { type LogFn, throttledLog } from "./log-throttle.ts";
import { topologyOf, type ValkeyStoreOptions } from "./options.ts";

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

/** A Lua script and its SHA1, as EVALSHA names it. */
interface Script {
  readonly source: string;
  readonly sha: string;
}
const scriptOf = (source: string): Script => ({ source, sha: createHash("sha1").update(source).digest("hex") });
const GCRA: Script = scriptOf(GCRA_LUA);
/** The two phases of limits that see the response (response/phase-lua.ts): one call per phase, never batched. */
const PHASES: Script = scriptOf(PHASE_LUA);
/** Scripts run through evalScript, by source (a handful, fixed at load: hot-key slices). */
const scripts = new Map<string, Script>();
/** Requests per script call: bounds the work one atomic script does while others wait. */
const MAX_BATCH = 64;

interface Pending {
  readonly checks: readonly LimitCheck[];
  readonly resolve: (decision: Decision) => void;
  readonly reject: (error: unknown) => void;
  done: boolean;
  /** When the request was queued (performance.now()): its deadline counts from here. */
  readonly queuedMs: number;
}

// "queue is full": node-redis refuses new commands while its bounded queue is full (overload, not a bad reply).
const TRANSIENT = /offline|closed|ECONN|EPIPE|socket|CLUSTERDOWN|LOADING|READONLY|MASTERDOWN|TRYAGAIN|not ready|connection|queue is full/i;

function asStoreError(error: unknown): ValkeyStoreError {
  if (error instanceof ValkeyStoreError) return error;
  const message = errorMessage(error);
  return new ValkeyStoreError(TRANSIENT.test(message) ? "unavailable" : "reply", `Valkey call failed: ${message}`, { cause: error });
}

function validate(checks: readonly LimitCheck[]): void {
  for (const c of checks) {
    const { emissionIntervalUs: t, burstToleranceUs: tau } = c.params;
    if (!Number.isInteger(t) || t < 1 || !Number.isInteger(tau) || tau < 0 || !Number.isInteger(c.cost) || c.cost < 0) {
      throw new RangeError(`Invalid GCRA check for ${c.key}: T=${t} µs, τ=${tau} µs, cost=${c.cost}`);
    }
  }
}

/**
 * SCRIPT LOADs in progress per connection and route key. After a SCRIPT FLUSH (or on a fresh
 * node) every batch in flight gets NOSCRIPT at once; sharing one load keeps them from each
 * sending the whole source with EVAL, which took long enough to blow the decision deadline.
 */
const loading = new WeakMap<ValkeyConnection, Map<string, Promise<unknown>>>();

function loadScript(conn: ValkeyConnection, routeKey: string, script: Script = GCRA): Promise<unknown> {
  let byRoute = loading.get(conn);
  if (byRoute === undefined) loading.set(conn, (byRoute = new Map()));
  const id = `${script.sha}|${routeKey}`;
  let load = byRoute.get(id);
  if (load === undefined) {
    load = conn.send(routeKey, ["SCRIPT", "LOAD", script.source]).finally(() => byRoute.delete(id));
    byRoute.set(id, load);
  }
  return load;
}

async function runScript(conn: ValkeyConnection, routeKey: string, evalArgs: string[], script: Script = GCRA): Promise<unknown> {
  try {
    return await conn.send(routeKey, ["EVALSHA", script.sha, ...evalArgs]);
  } catch (error) {
    if (!errorMessage(error).startsWith("NOSCRIPT")) throw error;
  }
  try {
    await loadScript(conn, routeKey, script);
    return await conn.send(routeKey, ["EVALSHA", script.sha, ...evalArgs]);
  } catch (error) {
    // Still not cached there (e.g. a cluster node other than the one that loaded it): send the source.
    if (!errorMessage(error).startsWith("NOSCRIPT")) throw error;
    return await conn.send(routeKey, ["EVAL", script.source, ...evalArgs]);
  }
}

class ValkeyLimiterStore implements ValkeyStore {
  readonly #connections: readonly ValkeyConnection[];
  readonly #options: ValkeyStoreOptions;
  readonly #deps: ValkeyStoreDeps;
  readonly #report: ReturnType<typeof throttledLog>;
  readonly #byTag: boolean;
  /** The two-phase script's calls (limits that see the response), batched per tick. */
  readonly #phases: PhaseBatcher;
  readonly #lean: ScriptPath | undefined;
  #queued = new Map<string, Pending[]>();
  #flushScheduled = false;
  /** Script calls sent and neither answered nor past their deadline. */
  #outstanding = 0;
  #next = 0;
  #late = 0;
  #closed = false;

  constructor(connections: readonly ValkeyConnection[], options: ValkeyStoreOptions, deps: ValkeyStoreDeps, byTag: boolean, lean?: ScriptPath) {
    this.#connections = connections;
    this.#lean = lean;
    this.#options = options;
    this.#deps = deps;
    this.#byTag = byTag;
    this.#report = throttledLog(deps.log, deps.clock);
    this.#phases = new PhaseBatcher({
      send: (routeKey, args) => runScript(this.#connections[this.#next++ % this.#connections.length], routeKey, args, PHASES),
      deadlineMs: options.deadlineMs,
      byTag,
      ...(deps.onEvent === undefined ? {} : { onEvent: deps.onEvent }),
      failure: (error) => {
        const storeError = asStoreError(error);
        this.#report(`call-${storeError.code}`, "Valkey call failed", { code: storeError.code, error: errorMessage(error) });
        return storeError;
      },
    });
  }

  get lateReplies(): number {
    return this.#late;
  }

  check(checks: readonly LimitCheck[]): Decision | Promise<Decision> {
    if (checks.length === 0) return { allowed: true, decidingIndex: -1, results: [], degraded: false };
    if (this.#closed) return Promise.reject(new ValkeyStoreError("closed", "Valkey store is closed"));
    validate(checks);
    if (this.#byTag && checks.length > 1) {
      const groups = tagGroups(checks, this.#options.keyPrefix);
      if (groups !== undefined) return this.#acrossSlots(checks, groups);
    }
    return new Promise<Decision>((resolve, reject) => {
      const pending: Pending = { checks, resolve, reject, done: false, queuedMs: performance.now() };
      const routeKey = this.#options.keyPrefix + checks[0].key;
      if (!this.#options.batch) return this.#send(routeKey, [pending]);
      // Standalone and sentinel: one group; cluster: one group per hash tag (hence per slot).
      const group = this.#byTag ? hashTagOf(routeKey) : "";
      const list = this.#queued.get(group);
      if (list) list.push(pending);
      else this.#queued.set(group, [pending]);
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        // After the event-loop turn, not the microtask: the NOTIFYs every HAProxy connection
        // delivered in this turn share one script call (a microtask flush sent one per connection).
        const delay = this.#options.batchDelayMs ?? 0;
        if (delay > 0) setTimeout(() => this.#flush(), delay);
        else setImmediate(() => this.#flush());
      }
    });
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

  #flush(): void {
    this.#flushScheduled = false;
    // One node (standalone, sentinel): while every connection has a call out, requests keep
    // gathering and the next reply (or deadline) sends them as one call, so batches grow with
    // the load even when NOTIFYs arrive one per event-loop turn. A cluster's calls go to
    // different primaries and are not held back.
    if (!this.#byTag && this.#outstanding >= this.#connections.length) return;
    const queued = this.#queued;
    this.#queued = new Map();
    for (const list of queued.values()) {
      const routeKey = this.#options.keyPrefix + list[0].checks[0].key;
      for (let i = 0; i < list.length; i += MAX_BATCH) this.#send(routeKey, list.slice(i, i + MAX_BATCH));
    }
  }

  /** A call of #send is answered or past its deadline: a held batch may go now. */
  #released(): void {
    this.#outstanding--;
    if (this.#queued.size > 0 && !this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(() => this.#flush());
    }
  }

  #send(routeKey: string, items: readonly Pending[]): void {
    const conn = this.#connections[this.#next++ % this.#connections.length];
    this.#outstanding++;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      this.#released();
    };
    // One timer per batch. Its items share one timeout error, whose `answered` settles if the
    // reply still comes (a caller can tell a slow Valkey from a gone one).
    let answeredLate: (() => void) | undefined;
    const timer = setTimeout(() => {
      const error = new ValkeyStoreError("timeout", `Valkey did not answer within ${this.#options.deadlineMs} ms`, {
        answered: new Promise<void>((resolve) => (answeredLate = resolve)),
      });
      for (const item of items) {
        if (item.done) continue;
        item.done = true;
        item.reject(error);
      }
      release();
      // The deadline counts from when the oldest request was queued, time held back included.
    }, Math.max(0, this.#options.deadlineMs - (performance.now() - items[0].queuedMs)));
    const requests = items.map((item) => item.checks);
    const sentMs = performance.now();
    const classic = () => runScript(conn, routeKey, encodeBatch(requests, this.#options.keyPrefix));
    (this.#lean === undefined ? classic() : this.#lean.run(routeKey, requests, classic)).then((reply) => {
      clearTimeout(timer);
      release();
      answeredLate?.();
      const roundTrip: StoreEvent = { kind: "round-trip", seconds: (performance.now() - sentMs) / 1000 };
      let decisions: Decision[];
      try {
        decisions = decodeBatch(reply, requests);
      } catch (error) {
        return this.#fail(items, error);
      }
      items.forEach((item, i) => {
        if (this.#settleLate(item)) return;
        // One observation per decision, as the histogram is read (a batch shares its round trip).
        this.#deps.onEvent?.(roundTrip);
        item.resolve(decisions[i]);
      });
    }, (error: unknown) => {
      clearTimeout(timer);
      release();
      // An error reply is Valkey answering; a dropped connection is not.
      if (asStoreError(error).code === "reply") answeredLate?.();
      this.#fail(items, error);
    });
  }

  request(checks: readonly PhaseCheck[], leaseId: string): Promise<PhaseDecision> {
    validate(checks);
    if (this.#byTag && checks.length > 1) {
      const groups = tagGroups(checks, this.#options.keyPrefix);
      if (groups !== undefined) return this.#requestAcrossSlots(checks, groups, leaseId);
    }
    const op = checks.length === 0 ? undefined : requestPhaseOp(checks, leaseId, this.#options.keyPrefix);
    return this.#phase(op, (reply) => decodeRequestPhase(reply, checks.length));
  }

  response(settlements: readonly Settlement[], leaseId: string): Promise<SettleResult[]> {
    if (this.#byTag && settlements.length > 1) {
      // A ticket whose keys span cluster slots settles per slot (the response phase never denies).
      const groups = tagGroups(settlements.map((s) => ({ key: s.key, params: s.params, cost: 0, shadow: true })), this.#options.keyPrefix);
      if (groups !== undefined) {
        return Promise.all(groups.map((group) => this.response(group.map((i) => settlements[i]), leaseId))).then((parts) => {
          const results = new Array<SettleResult>(settlements.length);
          groups.forEach((group, g) => group.forEach((index, j) => (results[index] = parts[g][j])));
          return results;
        });
      }
    }
    const op = settlements.length === 0 ? undefined : responsePhaseOp(settlements, leaseId, this.#options.keyPrefix);
    return this.#phase(op, (reply) => decodeResponsePhase(reply, settlements.length));
  }

  /**
   * A request whose checks span cluster slots (see cross-slot.ts): one request-phase call per
   * hash tag, denied if any denies. A part that allowed is then undone where it can be: its
   * leases released and its estimates refunded (its ordinary rate limits stay spent, as in check()).
   */
  async #requestAcrossSlots(checks: readonly PhaseCheck[], groups: readonly (readonly number[])[], leaseId: string): Promise<PhaseDecision> {
    const parts = groups.map((group) => group.map((i) => checks[i]));
    const decisions = await Promise.all(parts.map((part) => this.request(part, leaseId)));
    const merged = mergeDecisions(checks, groups, decisions) as PhaseDecision;
    if (merged.allowed) return merged;
    await Promise.all(parts.map((part, g) => {
      if (!decisions[g].allowed) return undefined;
      const undo: Settlement[] = part
        .filter((c) => c.rate === "postpaid" || c.lease !== undefined)
        .map((c) => ({ key: c.key, params: c.params, rate: c.rate, estimate: c.rate === "postpaid" ? c.cost : 0, actual: c.rate === "postpaid" ? 0 : undefined, lease: c.lease !== undefined }));
      return undo.length === 0 ? undefined : this.response(undo, leaseId);
    }));
    return merged;
  }

  /** The phase of one request through the batcher (phase-batch.ts); `decode` reads its part of the reply. */
  #phase<T>(op: PhaseOp | undefined, decode: (reply: unknown) => T): Promise<T> {
    if (this.#closed) return Promise.reject(new ValkeyStoreError("closed", "Valkey store is closed"));
    if (op === undefined) return Promise.resolve(decode([]));
    return this.#phases.run(op).then(decode);
  }

  #fail(items: readonly Pending[], error: unknown): void {
    const storeError = asStoreError(error);
    this.#report(`call-${storeError.code}`, "Valkey call failed", { code: storeError.code, error: errorMessage(error) });
    this.#deps.onEvent?.({ kind: "store-error", error: storeError });
    for (const item of items) {
      if (this.#settleLate(item)) continue;
      item.reject(storeError);
    }
  }

  /** Marks `item` answered; true when its deadline had already passed. */
  #settleLate(item: Pending): boolean {
    if (!item.done) {
      item.done = true;
      return false;
    }
    this.#late++;
    this.#deps.onEvent?.({ kind: "late-reply" });
    return true;
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
    const conn = this.#connections[this.#next++ % this.#connections.length];
    return runScript(conn, this.#options.keyPrefix + routeKey, args, script).catch((error: unknown) => {
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
  await Promise.all(connections.map((conn) => loadScript(conn, "").catch(() => undefined)));
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
