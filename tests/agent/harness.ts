/**
 * Shared setup for engine tests: an Agent with fake timers, connections over MemoryTransport
 * driven by SpopClient, and a recording AgentEvents.
 * @module
 */
import { Agent, type AgentOptions } from "../../src/agent/agent.ts";
import type { AgentEvents, CloseReason } from "../../src/agent/events.ts";
import type { HandlerResult, NotifyContext, NotifyHandler } from "../../src/agent/handler.ts";
import type { Timers } from "../../src/agent/transport.ts";
import type { Action, Message } from "../../src/spop/types.ts";
import { MemoryTransport } from "../../src/agent/memory-transport.ts";
import { parseReplies, SpopClient } from "../../src/spop/client.ts";

/** Timers that only fire when the test says so. */
export class FakeTimers implements Timers {
  readonly #pending = new Map<number, { callback: () => void; ms: number }>();
  #next = 1;

  schedule(callback: () => void, ms: number): unknown {
    const id = this.#next++;
    this.#pending.set(id, { callback, ms });
    return id;
  }

  cancel(handle: unknown): void {
    this.#pending.delete(handle as number);
  }

  /** Timers armed and neither fired nor cleared. */
  get pendingCount(): number {
    return this.#pending.size;
  }

  /** Delays of the armed timers. */
  delays(): number[] {
    return [...this.#pending.values()].map((t) => t.ms);
  }

  /** Fires the armed timers whose delay is `ms` (others stay armed). */
  fire(ms: number): void {
    for (const [id, timer] of [...this.#pending.entries()]) {
      if (timer.ms !== ms || !this.#pending.delete(id)) continue;
      timer.callback();
    }
  }

  /** Fires every armed timer once (timers armed while firing wait for the next call). */
  fireAll(): void {
    const due = [...this.#pending.entries()];
    for (const [id, timer] of due) {
      if (!this.#pending.delete(id)) continue;
      timer.callback();
    }
  }
}

/** The actions every test handler returns: one set-var naming the message. */
export function answerFor(messages: readonly Message[]): Action[] {
  return [{ type: "set-var", scope: "txn", name: "seen", value: { kind: "string", value: messages[0]?.name ?? "" } }];
}

/** The failure decision the test handlers return. */
export const FAILURE_ACTIONS: Action[] = [
  { type: "set-var", scope: "txn", name: "failed", value: { kind: "bool", value: true } },
];

/** A handler built from a function; failureActions answers FAILURE_ACTIONS. */
export function handlerOf(
  handle: (messages: readonly Message[], context: NotifyContext) => HandlerResult,
  failureActions: NotifyHandler["failureActions"] = () => FAILURE_ACTIONS,
): NotifyHandler {
  return { handle, failureActions };
}

/** Every event, recorded as a tuple. */
export class EventLog implements AgentEvents {
  readonly entries: Array<readonly [string, ...unknown[]]> = [];
  connectionOpened(id: number, remoteAddress: string): void {
    this.entries.push(["connectionOpened", id, remoteAddress]);
  }
  connectionClosed(id: number, reason: CloseReason): void {
    this.entries.push(["connectionClosed", id, reason]);
  }
  helloReceived(id: number): void {
    this.entries.push(["helloReceived", id]);
  }
  disconnectSent(id: number, status: number, reason: string): void {
    this.entries.push(["disconnectSent", id, status, reason]);
  }
  disconnectReceived(id: number, status: number, message: string): void {
    this.entries.push(["disconnectReceived", id, status, message]);
  }
  handlerFailed(id: number, error: unknown): void {
    this.entries.push(["handlerFailed", id, error]);
  }
  readPaused(paused: boolean): void {
    this.entries.push(["readPaused", paused]);
  }
  /** Entries of one event name, without the name. */
  of(name: string): unknown[][] {
    return this.entries.filter((e) => e[0] === name).map((e) => e.slice(1));
  }
}

/** One fake HAProxy connection: its transport and a client writing into it. */
export interface Peer {
  readonly transport: MemoryTransport;
  readonly client: SpopClient;
  /** Every frame the agent wrote, decoded. */
  replies(): ReturnType<typeof parseReplies>;
}

/** An Agent under test plus helpers. */
export interface Harness {
  readonly agent: Agent;
  readonly timers: FakeTimers;
  readonly events: EventLog;
  /** Accepts a new in-memory connection. */
  connect(options?: { closeOnEnd?: boolean }): Peer;
  /** Accepts a connection and completes a runtime HELLO (its reply is the first write). */
  ready(options?: { closeOnEnd?: boolean }): Peer;
}

/** Builds an Agent with fake timers and an event log; `handler` defaults to a sync answerFor. */
export function harness(options: Partial<AgentOptions> = {}): Harness {
  const timers = new FakeTimers();
  const events = new EventLog();
  const agent = new Agent({
    handler: handlerOf((messages) => answerFor(messages)),
    timers,
    events,
    ...options,
  });
  const connect = (opts: { closeOnEnd?: boolean } = {}): Peer => {
    const client = new SpopClient((bytes) => transport.send(bytes));
    const transport = new MemoryTransport({ ...opts, onWrite: (bytes) => client.receive(bytes) });
    transport.attach(agent.accept(transport));
    return { transport, client, replies: () => parseReplies(transport.output()) };
  };
  const ready = (opts: { closeOnEnd?: boolean } = {}): Peer => {
    const peer = connect(opts);
    peer.client.hello();
    return peer;
  };
  return { agent, timers, events, connect, ready };
}

/** Lets queued microtasks (async handler completions, scheduled flushes) run. */
export function settle(): Promise<void> {
  // A macrotask boundary: every microtask queued before it has run.
  return new Promise<void>((resolve) => setTimeout(resolve, 0));
}

/** A promise with its resolve/reject exposed. */
export function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

