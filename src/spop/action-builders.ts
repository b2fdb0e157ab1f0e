/**
 * Short ways to write the values and actions of an ACK, for handler authors: plain JavaScript
 * values in, typed data out, with the integer width picked from the value.
 * @module
 */
import type { Action, TypedData, VarScopeName } from "./types.ts";

/**
 * A JavaScript value `typedData` knows how to send: numbers must be integers.
 *
 * @example Plain values for setVar
 * ```ts
 * import { type PlainValue, setVar } from "@spoa-gcra/spoa-gcra";
 *
 * const values: PlainValue[] = [true, 42, 2n ** 40n, "text", new Uint8Array([1, 2]), null];
 * const kinds = values.map((v) => { const a = setVar("txn", "x", v); return a.type === "set-var" ? a.value.kind : ""; });
 * console.assert(kinds.join() === "bool,int32,int64,string,binary,null");
 * ```
 */
export type PlainValue = boolean | number | bigint | string | Uint8Array | null;

const INT32_MIN = -0x8000_0000;
const INT32_MAX = 0x7fff_ffff;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * The typed-data form of a plain value: booleans as bool, integers as int32 when they fit and
 * int64 otherwise, strings as string, bytes as binary, null as null.
 *
 * @param value A boolean, an integer (`number` or `bigint`), a string, bytes or null.
 * @returns The typed value HAProxy receives.
 * @throws {RangeError} For a fractional or non-finite number, or an integer outside int64.
 *
 * @example Integers pick their width
 * ```ts
 * import { typedData } from "@spoa-gcra/spoa-gcra";
 *
 * console.assert(typedData(80).kind === "int32");
 * console.assert(typedData(2 ** 40).kind === "int64");
 * console.assert(typedData("gold").kind === "string");
 * ```
 */
export function typedData(value: PlainValue): TypedData {
  switch (typeof value) {
    case "boolean":
      return { kind: "bool", value };
    case "string":
      return { kind: "string", value };
    case "number":
      if (!Number.isSafeInteger(value)) throw new RangeError(`Cannot send ${value}: SPOP numbers are integers`);
      return value >= INT32_MIN && value <= INT32_MAX ? { kind: "int32", value } : { kind: "int64", value };
    case "bigint":
      if (value < INT64_MIN || value > INT64_MAX) throw new RangeError(`Cannot send ${value}: outside int64`);
      return { kind: "int64", value };
    default:
      return value === null ? { kind: "null" } : { kind: "binary", value };
  }
}

/**
 * An action setting `<scope>.<var-prefix>.<name>` in HAProxy (the prefix is the SPOE
 * engine's `option var-prefix`).
 *
 * @param scope The variable scope: `proc`, `sess`, `txn`, `req` or `res`.
 * @param name The variable name after the prefix, e.g. `ip_score`.
 * @param value The value: typed data as it is, or a plain value converted by {@link typedData}.
 * @returns A `set-var` action for the ACK.
 *
 * @example Score a session
 * ```ts
 * import { setVar } from "@spoa-gcra/spoa-gcra";
 *
 * const action = setVar("sess", "ip_score", 90);
 * console.assert(action.type === "set-var" && action.value.kind === "int32");
 * ```
 */
export function setVar(scope: VarScopeName, name: string, value: TypedData | PlainValue): Action {
  const data = isTypedData(value) ? value : typedData(value);
  return { type: "set-var", scope, name, value: data };
}

/**
 * An action removing `<scope>.<var-prefix>.<name>` in HAProxy.
 *
 * @param scope The variable scope: `proc`, `sess`, `txn`, `req` or `res`.
 * @param name The variable name after the prefix.
 * @returns An `unset-var` action for the ACK.
 *
 * @example Forget a score
 * ```ts
 * import { unsetVar } from "@spoa-gcra/spoa-gcra";
 *
 * console.assert(unsetVar("sess", "ip_score").type === "unset-var");
 * ```
 */
export function unsetVar(scope: VarScopeName, name: string): Action {
  return { type: "unset-var", scope, name };
}

function isTypedData(value: TypedData | PlainValue): value is TypedData {
  return typeof value === "object" && value !== null && !(value instanceof Uint8Array) && "kind" in value;
}
