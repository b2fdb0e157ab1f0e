/**
 * A small seeded fuzzer for bun:test: every input is generated from (seed, index) alone, so a
 * failure names the exact input to replay; the budget is a few seconds per target in CI and
 * longer on request.
 *
 *   FUZZ_SECONDS=60 bun test tests/fuzz         run each target for 60 s instead of the CI default
 *   FUZZ_SEED=1234 bun test tests/fuzz          another sequence of inputs (the default is fixed)
 *   FUZZ_SEED=1234 FUZZ_ONLY=5821 bun test …    replay one input (printed on failure)
 * @module
 */
import { SpopError } from "../../src/spop/errors.ts";
import { DisconnectStatus } from "../../src/spop/types.ts";
import { rng } from "../helpers/rng.ts";

/** A random source: `next(n)` is an integer in [0, n). */
export type Random = (n: number) => number;

/** The run's settings, from the environment. */
export interface FuzzSettings {
  readonly seed: number;
  /** Seconds per in-process target. */
  readonly seconds: number;
  /** Replay only this input index. */
  readonly only?: number;
}

/** CI default: a handful of seconds per target keeps tests/fuzz well under a minute in all. */
const CI_SECONDS = 4;
const DEFAULT_SEED = 0x5eed;

function envNumber(name: string): number | undefined {
  const text = process.env[name];
  if (text === undefined || text === "") return undefined;
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`${name}=${text} is not a non-negative number`);
  return value;
}

/** FUZZ_SEED, FUZZ_SECONDS and FUZZ_ONLY, with the CI defaults. */
export function fuzzSettings(): FuzzSettings {
  return { seed: envNumber("FUZZ_SEED") ?? DEFAULT_SEED, seconds: envNumber("FUZZ_SECONDS") ?? CI_SECONDS, only: envNumber("FUZZ_ONLY") };
}

/** The random source of input `index` under `seed` (independent of every other input). */
export function inputRandom(seed: number, index: number): Random {
  // Spread (seed, index) over 32 bits so neighbouring indices start far apart.
  const mixed = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(index + 1, 0xc2b2ae35);
  const next = rng(mixed === 0 ? 1 : mixed);
  for (let i = 0; i < 4; i++) next(2); // xorshift's first outputs echo its seed
  return next;
}

/** Every status a SpopError may legally carry (spop-protocol.md §6). */
export const LEGAL_STATUSES: ReadonlySet<number> = new Set(Object.values(DisconnectStatus));

/**
 * Runs `fn`; a SpopError with a legal status is an accepted outcome (returned as its status),
 * anything else thrown escapes as a fuzz failure.
 */
export function spopOutcome(fn: () => void): number | "ok" {
  try {
    fn();
    return "ok";
  } catch (error) {
    if (error instanceof SpopError && LEGAL_STATUSES.has(error.status)) return error.status;
    throw error;
  }
}

/**
 * One input taking this long is a hang in the making (quadratic work, a runaway loop): far
 * beyond any scheduling hiccup, so it flags work that is not bounded per input, not slowness.
 */
const MAX_INPUT_MS = 2_000;

/** Heap growth over one target's run (after a full GC) that counts as unbounded memory. */
const MAX_HEAP_GROWTH_MIB = 64;

function heapAfterGc(): number {
  Bun.gc(true);
  return process.memoryUsage().heapUsed;
}

/** What a fuzz run did, for the test log and the report. */
export interface FuzzStats {
  readonly target: string;
  readonly seed: number;
  readonly iterations: number;
  readonly seconds: number;
  /** Heap growth over the run after a full GC, in MiB (inputs must not leave memory behind). */
  readonly heapGrowthMiB: number;
  /** True when FUZZ_ONLY replayed one input: coverage expectations do not apply. */
  readonly replay: boolean;
  /** How many inputs ended in each outcome ("ok", a status, …). */
  readonly outcomes: Readonly<Record<string, number>>;
}

/** Hex of the first `max` bytes, for failure messages. */
export function hexOf(bytes: Uint8Array, max = 512): string {
  const shown = Array.from(bytes.subarray(0, max), (b) => b.toString(16).padStart(2, "0")).join("");
  return bytes.length > max ? `${shown}… (${bytes.length} bytes)` : shown;
}

/**
 * Generates inputs from (seed, index) and checks each until the time budget is spent (or
 * `maxIterations`). `check` returns an outcome label, or throws on a broken invariant: the
 * failure then names the seed and the index, and `describe` shows the input.
 */
export async function fuzz<T>(options: {
  readonly target: string;
  readonly generate: (random: Random, index: number) => T;
  readonly check: (input: T) => string | Promise<string>;
  readonly describe: (input: T) => string;
  readonly settings?: FuzzSettings;
  readonly maxIterations?: number;
}): Promise<FuzzStats> {
  const settings = options.settings ?? fuzzSettings();
  const heapBefore = heapAfterGc();
  const started = performance.now();
  const until = started + settings.seconds * 1000;
  const outcomes: Record<string, number> = {};
  const indices = settings.only !== undefined ? [settings.only] : undefined;
  let iterations = 0;
  let slowestMs = 0;
  for (let index = indices?.[0] ?? 0; ; index++) {
    if (indices !== undefined ? iterations === 1 : performance.now() >= until || iterations >= (options.maxIterations ?? Infinity)) break;
    const input = options.generate(inputRandom(settings.seed, index), index);
    let outcome: string;
    const inputStarted = performance.now();
    try {
      outcome = await options.check(input);
      const ms = performance.now() - inputStarted;
      slowestMs = Math.max(slowestMs, ms);
      if (ms > MAX_INPUT_MS) throw new Error(`one input took ${ms.toFixed(0)} ms: work per input is not bounded`);
    } catch (error) {
      throw new Error(
        `fuzz ${options.target}: input ${index} broke an invariant (replay: FUZZ_SEED=${settings.seed} FUZZ_ONLY=${index})\n` +
          `input: ${options.describe(input)}\n${error instanceof Error ? error.stack ?? error.message : String(error)}`,
        { cause: error },
      );
    }
    outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
    iterations++;
  }
  const seconds = (performance.now() - started) / 1000;
  const heapGrowthMiB = (heapAfterGc() - heapBefore) / 2 ** 20;
  const stats = { target: options.target, seed: settings.seed, iterations, seconds, heapGrowthMiB, replay: indices !== undefined, outcomes };
  console.log(
    `fuzz ${stats.target}: ${iterations} inputs in ${seconds.toFixed(1)} s (${Math.round(iterations / seconds)}/s), seed ${stats.seed}, ` +
      `slowest input ${slowestMs.toFixed(1)} ms, heap ${heapGrowthMiB >= 0 ? "+" : ""}${heapGrowthMiB.toFixed(1)} MiB, outcomes ${JSON.stringify(outcomes)}`,
  );
  if (heapGrowthMiB > MAX_HEAP_GROWTH_MIB) throw new Error(`fuzz ${stats.target}: the heap grew by ${heapGrowthMiB.toFixed(0)} MiB over the run (seed ${stats.seed})`);
  return stats;
}
