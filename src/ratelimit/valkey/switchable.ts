/**
 * A Valkey store whose Valkey can change while the agent runs: a config reload that points
 * the agent at another address (a disaster-recovery switch to a promoted replica, a moved
 * endpoint) opens a new store there and swaps it in; decisions already sent finish on the old
 * one, which closes after a grace period. No restart, no NOTIFY left unanswered.
 * @module
 */
import type { PhaseDecision, PhaseCheck, SettleResult, Settlement } from "../response/phase.ts";
import type { Decision, LimitCheck } from "../store.ts";
import type { StoredKey } from "../store-admin.ts";
import type { ValkeyStore } from "./store.ts";

/** A ValkeyStore that delegates to the store of the current address (app/stores.ts builds it). */
export class SwitchableValkeyStore implements ValkeyStore {
  #current: ValkeyStore;
  readonly #graceMs: number;
  /** Late replies of the stores already retired. */
  #retiredLate = 0;
  readonly #retiring = new Set<Promise<void>>();
  #switches = 0;

  /**
   * @param initial The store of the address the agent started with.
   * @param options `graceMs`: how long a replaced store stays open for calls already sent (at least their deadline).
   */
  constructor(initial: ValkeyStore, options: { readonly graceMs: number }) {
    this.#current = initial;
    this.#graceMs = options.graceMs;
  }

  /** How many times the address changed. */
  get switches(): number {
    return this.#switches;
  }

  get lateReplies(): number {
    return this.#retiredLate + this.#current.lateReplies;
  }

  /** New calls go to `next` from now on; the replaced store closes after the grace period. */
  async switchTo(next: ValkeyStore): Promise<void> {
    const old = this.#current;
    this.#current = next;
    this.#switches++;
    const retired = (async () => {
      await new Promise((resolve) => setTimeout(resolve, this.#graceMs));
      this.#retiredLate += old.lateReplies;
      await old.close();
    })();
    this.#retiring.add(retired);
    void retired.finally(() => this.#retiring.delete(retired));
  }

  check(checks: readonly LimitCheck[]): Decision | Promise<Decision> {
    return this.#current.check(checks);
  }

  request(checks: readonly PhaseCheck[], leaseId: string): PhaseDecision | Promise<PhaseDecision> {
    return this.#current.request(checks, leaseId);
  }

  response(settlements: readonly Settlement[], leaseId: string): SettleResult[] | Promise<SettleResult[]> {
    return this.#current.response(settlements, leaseId);
  }

  peekKey(key: string): StoredKey | Promise<StoredKey> {
    return this.#current.peekKey(key);
  }

  deleteKey(key: string): number | undefined | Promise<number | undefined> {
    return this.#current.deleteKey(key);
  }

  announceReset(keys: readonly string[]): Promise<void> {
    return this.#current.announceReset(keys);
  }

  ping(): Promise<boolean> {
    return this.#current.ping();
  }

  nodeOf(checks: readonly LimitCheck[]): string {
    return this.#current.nodeOf(checks);
  }

  evalScript(routeKey: string, source: string, args: string[]): Promise<unknown> {
    const current = this.#current;
    if (current.evalScript === undefined) return Promise.reject(new TypeError("this Valkey store runs no scripts for others"));
    return current.evalScript(routeKey, source, args);
  }

  async close(): Promise<void> {
    await Promise.all([this.#current.close(), ...this.#retiring]);
  }
}
