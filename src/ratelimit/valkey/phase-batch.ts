/**
 * Micro-batching of the two-phase script (response/phase-lua.ts): the phases of every request
 * issued in one event-loop turn share one EVALSHA per route group (standalone and sentinel: one;
 * cluster: one per hash tag, hence per slot), at most MAX_PHASES per call, each with the
 * decision deadline. One call per phase cost Valkey ~24 µs of CPU and the agent a node-redis
 * command each; a shared call spreads the per-call part over the batch.
 * @module
 */
import { hashTagOf } from "../identity/keys.ts";
import { encodePhaseBatch, type PhaseOp, splitPhaseReply } from "../response/phase-codec.ts";
import type { StoreEvent } from "../resilience/resilient-store.ts";
import { ValkeyStoreError } from "./errors.ts";

/** Phases per script call: bounds the work one atomic script does while others wait. */
const MAX_PHASES = 64;

interface Queued {
  readonly op: PhaseOp;
  readonly resolve: (reply: unknown[]) => void;
  readonly reject: (error: unknown) => void;
  done: boolean;
}

/** What the batcher needs from its store. */
export interface PhaseBatchDeps {
  /** Runs the phase script with `args` (`[numkeys, …]`) on the node of `routeKey`. */
  readonly send: (routeKey: string, args: string[]) => Promise<unknown>;
  readonly deadlineMs: number;
  /** Cluster: group by hash tag. */
  readonly byTag: boolean;
  readonly onEvent?: (event: StoreEvent) => void;
  /** Turns a failed call into the store's error (and logs it). */
  readonly failure: (error: unknown) => ValkeyStoreError;
}

/** Queues phases and sends them together after the current event-loop turn. */
export class PhaseBatcher {
  readonly #deps: PhaseBatchDeps;
  #queued = new Map<string, Queued[]>();
  #scheduled = false;

  /** @param deps How to send a call, the deadline, the grouping and the error mapping. */
  constructor(deps: PhaseBatchDeps) {
    this.#deps = deps;
  }

  /**
   * Queues one phase; resolves with its integers of the shared reply.
   * @param op The phase (its first key routes the call).
   * @returns The phase's part of the reply.
   */
  run(op: PhaseOp): Promise<unknown[]> {
    return new Promise((resolve, reject) => {
      const group = this.#deps.byTag ? hashTagOf(op.keys[0]) : "";
      const item: Queued = { op, resolve, reject, done: false };
      const list = this.#queued.get(group);
      if (list) list.push(item);
      else this.#queued.set(group, [item]);
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.#flush());
      }
    });
  }

  #flush(): void {
    this.#scheduled = false;
    const queued = this.#queued;
    this.#queued = new Map();
    for (const list of queued.values()) {
      for (let i = 0; i < list.length; i += MAX_PHASES) this.#send(list.slice(i, i + MAX_PHASES));
    }
  }

  #send(items: readonly Queued[]): void {
    const { deadlineMs, onEvent } = this.#deps;
    const ops = items.map((item) => item.op);
    const sentMs = performance.now();
    const timer = setTimeout(() => {
      const error = new ValkeyStoreError("timeout", `Valkey did not answer within ${deadlineMs} ms`);
      for (const item of items) {
        if (item.done) continue;
        item.done = true;
        item.reject(error);
      }
    }, deadlineMs);
    this.#deps.send(ops[0].keys[0], encodePhaseBatch(ops)).then((reply) => {
      clearTimeout(timer);
      let parts: unknown[][];
      try {
        parts = splitPhaseReply(reply, ops);
      } catch (error) {
        return this.#fail(items, error);
      }
      const roundTrip: StoreEvent = { kind: "round-trip", seconds: (performance.now() - sentMs) / 1000 };
      items.forEach((item, i) => {
        if (item.done) return void onEvent?.({ kind: "late-reply" });
        item.done = true;
        onEvent?.(roundTrip);
        item.resolve(parts[i]);
      });
    }, (error: unknown) => {
      clearTimeout(timer);
      this.#fail(items, error);
    });
  }

  #fail(items: readonly Queued[], error: unknown): void {
    const storeError = this.#deps.failure(error);
    for (const item of items) {
      if (item.done) continue;
      item.done = true;
      item.reject(storeError);
    }
  }
}
