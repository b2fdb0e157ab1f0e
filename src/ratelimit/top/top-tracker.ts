/**
 * Per limit, two bounded sketches (space-saving.ts): the identities denied most often, and the
 * heaviest (the cost they spent or tried to spend, allowed or not). Fed with every decision;
 * memory is bounded by `capacity` × 2 × the number of limits (at most `maxLimits`), whatever
 * the number of clients.
 * @module
 */
import type { Decision, LimitCheck } from "../store.ts";
import { keyParts } from "./key-parts.ts";
import { mergeSummaries, SpaceSaving, type TopSummary } from "./space-saving.ts";

/** One limit's two lists. */
export interface LimitTop {
  readonly denied: TopSummary;
  readonly heaviest: TopSummary;
}

/** Every limit's lists at one moment (what /admin/top answers and agents publish). */
export interface TopSnapshot {
  /** Epoch ms when taken (or, merged, the newest input's). */
  readonly atMs: number;
  /** Agents merged into this snapshot (1 for one agent's own). */
  readonly agents: number;
  readonly limits: Readonly<Record<string, LimitTop>>;
}

/** Counters per identity kept per list (default). */
export const DEFAULT_TOP_CAPACITY = 64;
/** Limits tracked at most: limit names come from the config, this only bounds a surprise. */
const DEFAULT_MAX_LIMITS = 256;

/** Watches decisions and answers "who is being limited". */
export class TopTracker {
  readonly capacity: number;
  readonly #maxLimits: number;
  #limits = new Map<string, { readonly denied: SpaceSaving; readonly heaviest: SpaceSaving }>();
  /** The window before the current one: snapshots cover one to two windows, never "since start". */
  #previous = new Map<string, { readonly denied: SpaceSaving; readonly heaviest: SpaceSaving }>();

  constructor(options: { readonly capacity?: number; readonly maxLimits?: number } = {}) {
    this.capacity = options.capacity ?? DEFAULT_TOP_CAPACITY;
    this.#maxLimits = options.maxLimits ?? DEFAULT_MAX_LIMITS;
  }

  #sketches(limit: string) {
    let s = this.#limits.get(limit);
    if (s === undefined && this.#limits.size < this.#maxLimits) {
      this.#limits.set(limit, (s = { denied: new SpaceSaving(this.capacity), heaviest: new SpaceSaving(this.capacity) }));
    }
    return s;
  }

  /** Records one request's decision: every check's cost as weight, the deciding denial as a denial. */
  observe(checks: readonly LimitCheck[], decision: Decision): void {
    for (let i = 0; i < checks.length; i++) {
      const check = checks[i];
      const parts = keyParts(check.key);
      if (parts === undefined) continue;
      const sketches = this.#sketches(parts.limit);
      if (sketches === undefined) continue;
      sketches.heaviest.add(parts.identity, check.cost);
      if (!decision.allowed && decision.decidingIndex === i) sketches.denied.add(parts.identity, 1);
    }
  }

  /** This agent's lists over the current and the previous window (`n` entries each, default all). */
  snapshot(nowMs: number, n = this.capacity): TopSnapshot {
    const limits: Record<string, LimitTop> = {};
    for (const limit of new Set([...this.#previous.keys(), ...this.#limits.keys()])) {
      const both = [this.#previous.get(limit), this.#limits.get(limit)].filter((s) => s !== undefined);
      limits[limit] = {
        denied: trim(mergeSummaries(both.map((s) => s.denied.summary()), this.capacity), n),
        heaviest: trim(mergeSummaries(both.map((s) => s.heaviest.summary()), this.capacity), n),
      };
    }
    return { atMs: nowMs, agents: 1, limits };
  }

  /** Starts a new window: the lists answer "lately", not "since the agent started". */
  rotate(): void {
    this.#previous = this.#limits;
    this.#limits = new Map();
  }
}

function trim(summary: TopSummary, n: number): TopSummary {
  return summary.entries.length <= n ? summary : { ...summary, entries: summary.entries.slice(0, n) };
}

/** Merges agents' snapshots into one of `capacity` entries per list. */
export function mergeSnapshots(snapshots: readonly TopSnapshot[], capacity: number): TopSnapshot {
  const names = new Set(snapshots.flatMap((s) => Object.keys(s.limits)));
  const limits: Record<string, LimitTop> = {};
  for (const name of names) {
    const parts = snapshots.map((s) => s.limits[name]).filter((t): t is LimitTop => t !== undefined);
    limits[name] = {
      denied: mergeSummaries(parts.map((p) => p.denied), capacity),
      heaviest: mergeSummaries(parts.map((p) => p.heaviest), capacity),
    };
  }
  return { atMs: Math.max(0, ...snapshots.map((s) => s.atMs)), agents: snapshots.reduce((n, s) => n + s.agents, 0), limits };
}
