/**
 * The actual cost a response message carries (e.g. `tokens=res.hdr(x-tokens-used)`), or why
 * it is unusable. Strict on purpose: a response cost moves a key's state after the fact, so
 * anything but a whole number from 0 to the limit's max is refused, never clamped or guessed.
 * @module
 */
import type { TypedData } from "../../spop/types.ts";

/**
 * Why a response cost was refused.
 *
 * @example Every reason
 * ```ts
 * import type { CostRefusal } from "@spoa-gcra/spoa-gcra";
 *
 * const reasons: CostRefusal[] = ["missing", "negative", "not-a-number", "too-large"];
 * console.assert(reasons.length === 4);
 * ```
 */
export type CostRefusal = "missing" | "negative" | "not-a-number" | "too-large";

const DECIMAL = /^\s*(-?\d{1,20})\s*$/;

/** The cost in `data` (undefined: the argument was absent), or a refusal. */
export function responseCost(data: TypedData | undefined, max: number): number | { readonly refused: CostRefusal } {
  let value: number;
  if (data === undefined || data.kind === "null") return { refused: "missing" };
  switch (data.kind) {
    case "int32":
    case "uint32":
    case "int64":
    case "uint64":
      value = Number(data.value);
      break;
    case "string": {
      if (data.value.trim() === "") return { refused: "missing" };
      const m = data.value.length <= 40 ? DECIMAL.exec(data.value) : null;
      if (m === null) return { refused: "not-a-number" };
      value = Number(m[1]);
      break;
    }
    default:
      return { refused: "not-a-number" };
  }
  if (value < 0) return { refused: "negative" };
  if (value > max || !Number.isSafeInteger(value)) return { refused: "too-large" };
  return value;
}
