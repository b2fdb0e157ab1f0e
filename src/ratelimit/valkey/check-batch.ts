/**
 * Micro-batching of the GCRA script (../gcra-lua.ts): the requests issued in one event-loop
 * turn share one call per route group (standalone and sentinel: one; cluster: one per hash tag,
 * hence per slot), at most MAX_BATCH per call, each with the decision deadline counted from
 * when it was queued; late replies are counted and ignored.
 * @module
 */
import { hashTagOf } from "../identity/keys.ts";
import type { StoreEvent } from "../resilience/resilient-store.ts";
import type { Decision, LimitCheck } from "../store.ts";
import { decodeBatch } from "./codec.ts";
import { asStoreError, errorMessage, ValkeyStoreError } from "./errors.ts";
import type { ValkeyStoreOptions } from "./options.ts";

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

/** What the batcher needs from its store. */
export interface CheckBatchDeps {
  readonly options: ValkeyStoreOptions;
  /** Cluster: group by hash tag, and never hold a batch back. */
  readonly byTag: boolean;
  /** How many calls may be out at once before a one-node store holds batches back. */
  readonly connections: number;
  /** Sends one call of `requests` on the node of `routeKey` (the next connection in turn). */
  readonly call: (routeKey: string, requests: readonly (readonly LimitCheck[])[]) => Promise<unknown>;
  readonly onEvent?: (event: StoreEvent) => void;
  /** The store's throttled log. */
  readonly report: (kind: string, msg: string, fields: Readonly<Record<string, unknown>>) => void;
}

/** Queues GCRA requests and sends them together after the current event-loop turn. */
export class CheckBatcher {
  readonly #deps: CheckBatchDeps;
  #queued = new Map<string, Pending[]>();
  #flushScheduled = false;
  /** Script calls sent and neither answered nor past their deadline. */
  #outstanding = 0;
  #late = 0;

  /** @param deps How to send a call, the options, the grouping and the hooks. */
  constructor(deps: CheckBatchDeps) {
    this.#deps = deps;
  }

  /** Replies that arrived after their decision's deadline. */
  get lateReplies(): number {
    return this.#late;
  }

  /** Decides `checks` (non-empty, validated, on one slot): alone when batching is off, else with this turn's others. */
  run(checks: readonly LimitCheck[]): Promise<Decision> {
    const options = this.#deps.options;
    return new Promise<Decision>((resolve, reject) => {
      const pending: Pending = { checks, resolve, reject, done: false, queuedMs: performance.now() };
      const routeKey = options.keyPrefix + checks[0].key;
      if (!options.batch) return this.#send(routeKey, [pending]);
      // Standalone and sentinel: one group; cluster: one group per hash tag (hence per slot).
      const group = this.#deps.byTag ? hashTagOf(routeKey) : "";
      const list = this.#queued.get(group);
      if (list) list.push(pending);
      else this.#queued.set(group, [pending]);
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        // After the event-loop turn, not the microtask: the NOTIFYs every HAProxy connection
        // delivered in this turn share one script call (a microtask flush sent one per connection).
        const delay = options.batchDelayMs ?? 0;
        if (delay > 0) setTimeout(() => this.#flush(), delay);
        else setImmediate(() => this.#flush());
      }
    });
  }

  #flush(): void {
    this.#flushScheduled = false;
    // One node (standalone, sentinel): while every connection has a call out, requests keep
    // gathering and the next reply (or deadline) sends them as one call, so batches grow with
    // the load even when NOTIFYs arrive one per event-loop turn. A cluster's calls go to
    // different primaries and are not held back.
    if (!this.#deps.byTag && this.#outstanding >= this.#deps.connections) return;
    const queued = this.#queued;
    this.#queued = new Map();
    for (const list of queued.values()) {
      const routeKey = this.#deps.options.keyPrefix + list[0].checks[0].key;
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
    const deadlineMs = this.#deps.options.deadlineMs;
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
      const error = new ValkeyStoreError("timeout", `Valkey did not answer within ${deadlineMs} ms`, {
        answered: new Promise<void>((resolve) => (answeredLate = resolve)),
      });
      for (const item of items) {
        if (item.done) continue;
        item.done = true;
        item.reject(error);
      }
      release();
      // The deadline counts from when the oldest request was queued, time held back included.
    }, Math.max(0, deadlineMs - (performance.now() - items[0].queuedMs)));
    const requests = items.map((item) => item.checks);
    const sentMs = performance.now();
    this.#deps.call(routeKey, requests).then((reply) => {
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

  #fail(items: readonly Pending[], error: unknown): void {
    const storeError = asStoreError(error);
    this.#deps.report(`call-${storeError.code}`, "Valkey call failed", { code: storeError.code, error: errorMessage(error) });
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
}
