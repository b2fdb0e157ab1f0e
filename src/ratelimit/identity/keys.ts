/**
 * Store keys: `<prefix>{<identity>}:<limitName>:<paramsHash>`.
 *
 * - The identity is the Valkey Cluster hash tag, so every limit of one client lands in one slot
 *   and one Lua script can check them all atomically.
 * - The params hash (8 hex chars of FNV-1a 32 over "T:τ") makes a changed rate start from a
 *   fresh key instead of inheriting a TAT computed with other parameters.
 * @module
 */
import { restHash } from "../memory/key-hash.ts";
import type { GcraParams, LimitCheck } from "../store.ts";

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** FNV-1a 32 over the UTF-16 code units of `text`, as 8 lowercase hex chars. */
export function fnv1a32Hex(text: string): string {
  let h = FNV_OFFSET;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, FNV_PRIME);
  }
  return (h >>> 0).toString(16).padStart(8, "0");
}

/** The short stable hash of a limit's T and τ used as the last key segment. */
export function paramsHash(params: GcraParams): string {
  return fnv1a32Hex(`${params.emissionIntervalUs}:${params.burstToleranceUs}`);
}

/**
 * Makes any identity safe inside `{…}`: `%` → `%25`, `{` → `%7B`, `}` → `%7D`, and the empty
 * identity → `%`. The mapping is injective (no escaped text ends in a lone `%` except the
 * empty identity's), so distinct identities never share a key, and the result is never empty
 * (`{}` would hash the whole key).
 *
 * A key of several parts (policy key-text.ts joins them with `|`, each part escaped so it holds
 * no `|`) gets its first part braced alone: `a|b|c` → `a}|{b|c`, so the key reads
 * `rl:{a}|{b|c}:limit:hash` and Valkey Cluster hashes only `a`. Every limit keyed by
 * `[identity, …]` therefore lands in the slot of the identity, with the limits keyed by
 * `[identity]` alone: the keys of one request never span slots on that account. The only brace
 * the result can hold is that `}|{`, which only the first `|` produces: still injective.
 */
export function escapeIdentity(identity: string): string {
  if (identity.length === 0) return "%";
  const escaped = identity.indexOf("{") < 0 && identity.indexOf("}") < 0 && identity.indexOf("%") < 0
    ? identity
    : identity.replaceAll("%", "%25").replaceAll("{", "%7B").replaceAll("}", "%7D");
  const bar = escaped.indexOf("|");
  return bar < 0 ? escaped : `${escaped.slice(0, bar)}}|{${escaped.slice(bar + 1)}`;
}

/**
 * The store key of one limit for one identity: the identity is the `{hash tag}`, so every key
 * of one client lands on one Valkey Cluster slot, and the GCRA parameters are part of the key,
 * so changing a limit starts it afresh.
 *
 * @param prefix Prepended to the key, e.g. `rl:`; must not contain a brace.
 * @param identity Who is limited, e.g. a client address.
 * @param limitName The limit's name.
 * @param params The limit's GCRA parameters.
 * @returns The key for a LimitCheck.
 * @throws {RangeError} When `prefix` contains a brace (it would move the hash tag).
 *
 * @example One client's key
 * ```ts
 * import { limitKey } from "@spoa-gcra/spoa-gcra";
 *
 * const key = limitKey("rl:", "203.0.113.7", "api", { emissionIntervalUs: 10_000, burstToleranceUs: 190_000 });
 * console.assert(key.startsWith("rl:{203.0.113.7}:api"));
 * ```
 */
export function limitKey(prefix: string, identity: string, limitName: string, params: GcraParams): string {
  if (prefix.indexOf("{") >= 0 || prefix.indexOf("}") >= 0) {
    throw new RangeError(`Key prefix ${JSON.stringify(prefix)} must not contain "{" or "}"`);
  }
  return `${prefix}{${escapeIdentity(identity)}}:${limitName}:${paramsHash(params)}`;
}

/** One limit's key with everything but the identity computed once (see limitKeyShape). */
export interface KeyShape {
  /** `<prefix>{` */
  readonly head: string;
  /** `}:<limitName>:<paramsHash>` */
  readonly tail: string;
  /** The memory store's fixed hash of head and tail (memory/key-hash.ts restHash). */
  readonly rest: Int32Array;
}

/**
 * The constant parts of one limit's keys.
 * @throws {RangeError} when `prefix` contains a brace.
 */
export function limitKeyShape(prefix: string, limit: { readonly name: string; readonly params: GcraParams }): KeyShape {
  limitKey(prefix, "", limit.name, limit.params); // throws on a bad prefix
  const head = `${prefix}{`;
  const tail = `}:${limit.name}:${paramsHash(limit.params)}`;
  return { head, tail, rest: restHash(head, tail) };
}

/**
 * escapeIdentity without allocating when nothing needs escaping (the usual address identity):
 * one scan for `%`, `{`, `|`, `}` instead of four indexOf.
 */
export function keyTag(identity: string): string {
  if (identity.length === 0) return "%";
  for (let i = 0; i < identity.length; i++) {
    const c = identity.charCodeAt(i);
    if (c === 37 || c === 123 || c === 124 || c === 125) return escapeIdentity(identity); // % { | }
  }
  return identity;
}

/**
 * A LimitCheck that keeps its key in parts: the memory store fingerprints tag + shape without
 * ever joining the text (memory/key-hash.ts); `key` is joined on first read (Valkey, logs).
 * Equal to the LimitCheck `{ key: limitKey(…), params, cost, shadow }` for every store.
 */
export class SplitKeyCheck implements LimitCheck {
  /** The escaped identity: the key's hash tag. */
  readonly tag: string;
  readonly shape: KeyShape;
  readonly params: GcraParams;
  readonly cost: number;
  readonly shadow: boolean;
  #key: string | undefined = undefined;

  constructor(tag: string, check: { readonly shape: KeyShape; readonly params: GcraParams; readonly cost: number; readonly shadow: boolean }) {
    this.tag = tag;
    this.shape = check.shape;
    this.params = check.params;
    this.cost = check.cost;
    this.shadow = check.shadow;
  }

  /** `<prefix>{<tag>}:<limitName>:<paramsHash>`, joined once. */
  get key(): string {
    return (this.#key ??= this.shape.head + this.tag + this.shape.tail);
  }

  /** What JSON and test matchers see: the plain LimitCheck. */
  toJSON(): LimitCheck {
    return { key: this.key, params: this.params, cost: this.cost, shadow: this.shadow };
  }
}

/**
 * The part of `key` Valkey Cluster hashes: the text between the first `{` and the next `}`
 * when that is non-empty, else the whole key.
 */
export function hashTagOf(key: string): string {
  const open = key.indexOf("{");
  if (open < 0) return key;
  const close = key.indexOf("}", open + 1);
  if (close < 0 || close === open + 1) return key;
  return key.slice(open + 1, close);
}
