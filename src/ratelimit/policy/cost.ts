/**
 * The cost of one request: a constant, an argument clamped to [0, max], or (post-paid) the
 * estimate the request phase charges.
 * @module
 */
import type { NamedData } from "../../spop/types.ts";
import type { CostSpec } from "./types.ts";
import { findArg } from "./args.ts";

/** Computes a request's cost from its arguments. */
export type CostFn = (args: readonly NamedData[]) => number;

const DECIMAL = /^\s*(-?\d{1,15})\s*$/;

function clampInt(value: number, max: number): number {
  if (value <= 0) return 0;
  return value >= max ? max : Math.floor(value);
}

/**
 * Compiles a CostSpec. An argument cost reads an integer kind or a decimal string; missing
 * text that is not a decimal integer, and other kinds take the default. Integers are clamped to [0, max].
 */
export function compileCost(spec: CostSpec): CostFn {
  if (spec.kind === "constant" || spec.kind === "response") {
    // A response cost charges its estimate in the request phase; the rest comes with the response.
    const value = spec.kind === "constant" ? spec.value : spec.estimate;
    return () => value;
  }
  const { arg, max } = spec;
  const fallback = clampInt(spec.default, max);
  return (args) => {
    const data = findArg(args, arg);
    if (data === undefined) return fallback;
    switch (data.kind) {
      case "int32":
      case "uint32":
      case "int64":
      case "uint64": {
        const v = data.value;
        if (typeof v === "bigint") return v <= 0n ? 0 : v >= BigInt(max) ? max : Number(v);
        return clampInt(v, max);
      }
      case "string": {
        if (data.value.length > 32) return fallback;
        const m = DECIMAL.exec(data.value);
        return m === null ? fallback : clampInt(Number(m[1]), max);
      }
      default:
        return fallback;
    }
  };
}
