/**
 * Rate strings ("100/s", "6000/m", "10/1h", "5/30s") and the GCRA parameters derived from them.
 * @module
 */
import type { GcraParams } from "./store.ts";

/**
 * A parsed rate: `count` requests per `periodSeconds`.
 *
 * @example Per-period arithmetic
 * ```ts
 * import { parseRate, type Rate } from "@spoa-gcra/spoa-gcra";
 *
 * const rate: Rate = parseRate("6000/m")!;
 * console.assert(rate.count / rate.periodSeconds === 100);
 * ```
 */
export interface Rate {
  readonly count: number;
  readonly periodSeconds: number;
}

const UNIT_SECONDS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86_400 };
const RATE = /^\s*([0-9]+)\s*\/\s*([0-9]*)\s*([smhd])\s*$/;

/**
 * Parses `<count>/<unit>` where unit is `s`, `m`, `h`, `d`, optionally with a multiplier (`10/1h`, `5/30s`).
 *
 * @param text A rate such as `100/s`, `6000/m` or `5/30s`.
 * @returns The count and period, or undefined when malformed (or the period exceeds a year).
 *
 * @example Rates as people write them
 * ```ts
 * import { parseRate } from "@spoa-gcra/spoa-gcra";
 *
 * console.assert(JSON.stringify(parseRate("5/30s")) === JSON.stringify({ count: 5, periodSeconds: 30 }));
 * console.assert(parseRate("fast") === undefined);
 * ```
 */
export function parseRate(text: string): Rate | undefined {
  const match = RATE.exec(text);
  if (match === null) return undefined;
  const count = Number(match[1]);
  const multiplier = match[2] === "" ? 1 : Number(match[2]);
  if (!Number.isSafeInteger(count) || count < 1 || !Number.isSafeInteger(multiplier) || multiplier < 1) return undefined;
  const periodSeconds = multiplier * UNIT_SECONDS[match[3]];
  return periodSeconds > 366 * 86_400 ? undefined : { count, periodSeconds };
}

/**
 * GCRA parameters: T = max(1, round(period µs / count)), τ = T × (burst − 1).
 *
 * @param rate The sustained rate.
 * @param burst How many requests a fresh client may send at once (at least 1).
 * @returns The emission interval T and burst tolerance τ in microseconds.
 *
 * @example 100 per second with bursts of 20
 * ```ts
 * import { gcraParams, parseRate } from "@spoa-gcra/spoa-gcra";
 *
 * const params = gcraParams(parseRate("100/s")!, 20);
 * console.assert(params.emissionIntervalUs === 10_000 && params.burstToleranceUs === 190_000);
 * ```
 */
export function gcraParams(rate: Rate, burst: number): GcraParams {
  const emissionIntervalUs = Math.max(1, Math.round((rate.periodSeconds * 1e6) / rate.count));
  return { emissionIntervalUs, burstToleranceUs: emissionIntervalUs * (burst - 1) };
}

/** The seed's (T, τ) pair expressed as a rate and burst: count = round(1e6 / T) per second, burst = floor(τ / T) + 1. */
export function rateFromSeed(intervalUs: number, burstUs: number): Rate & { readonly burst: number } {
  const perSecond = Math.round(1e6 / intervalUs);
  const rate = perSecond >= 1 ? { count: perSecond, periodSeconds: 1 } : { count: 1, periodSeconds: intervalUs / 1e6 };
  return { ...rate, burst: Math.floor(burstUs / intervalUs) + 1 };
}

/**
 * Formats a rate the way the config writes it (`100/s`, `10/h`, `5/30s`).
 *
 * @param rate A count per period.
 * @returns The shortest text `parseRate` reads back as the same rate.
 *
 * @example Round trip
 * ```ts
 * import { formatRate, parseRate } from "@spoa-gcra/spoa-gcra";
 *
 * console.assert(formatRate(parseRate("10/3600s")!) === "10/h");
 * ```
 */
export function formatRate(rate: Rate): string {
  for (const [unit, seconds] of [["d", 86_400], ["h", 3600], ["m", 60], ["s", 1]] as const) {
    if (rate.periodSeconds === seconds) return `${rate.count}/${unit}`;
  }
  for (const [unit, seconds] of [["d", 86_400], ["h", 3600], ["m", 60], ["s", 1]] as const) {
    const n = rate.periodSeconds / seconds;
    if (Number.isInteger(n)) return `${rate.count}/${n}${unit}`;
  }
  return `${rate.count}/${rate.periodSeconds}s`;
}
