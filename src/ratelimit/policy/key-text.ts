/**
 * Joins a limit's key parts into one unambiguous text (the identity slot of limitKey).
 * @module
 */

/** Parts longer than this are shortened to a head plus a hash, so a huge argument can't make a huge key. */
export const MAX_KEY_PART_CHARS = 256;
const HEAD_CHARS = 128;

/**
 * Escapes one part so it contains no `|` (the separator) and no `~` (the shortening marker):
 * `%` → `%25`, `|` → `%7C`, `~` → `%7E`. The mapping is injective, so `("a|b","c")` and
 * `("a","b|c")` give different texts.
 */
export function escapeKeyPart(part: string): string {
  if (part.indexOf("%") < 0 && part.indexOf("|") < 0 && part.indexOf("~") < 0) return part;
  return part.replaceAll("%", "%25").replaceAll("|", "%7C").replaceAll("~", "%7E");
}

function fnv(text: string, seed: number): string {
  let h = seed;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, "0");
}

/**
 * One key part as it appears in the key: escaped, and past MAX_KEY_PART_CHARS replaced by
 * `<escaped head>~<64-bit hash>`. The hash is not cryptographic: two long values could be made
 * to collide on purpose, which only merges those two values' budgets.
 */
export function keyPartText(part: string): string {
  if (part.length <= MAX_KEY_PART_CHARS) return escapeKeyPart(part);
  return `${escapeKeyPart(part.slice(0, HEAD_CHARS))}~${fnv(part, 0x811c9dc5)}${fnv(part, 0x2f0a6b3d)}`;
}
