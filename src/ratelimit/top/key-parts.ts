/**
 * The identity and limit name a store key names (identity/keys.ts limitKey:
 * `prefix{identity}:limitName:paramsHash`), for the top lists: people ask "which client, on
 * which limit", not for keys.
 * @module
 */

/** `{ identity, limit }` of a limit key; undefined for a key of another shape. */
export function keyParts(key: string): { readonly identity: string; readonly limit: string } | undefined {
  const open = key.indexOf("{");
  const close = key.lastIndexOf("}");
  const hash = key.lastIndexOf(":");
  if (open < 0 || close < open || hash <= close + 1) return undefined;
  return { identity: key.slice(open + 1, close), limit: key.slice(close + 2, hash) };
}
