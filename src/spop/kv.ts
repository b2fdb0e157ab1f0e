/**
 * KV-LIST (spop-protocol.md §4): `( KEY:STRING-BODY VALUE:TYPED-DATA )*` — the payload of
 * HELLO and DISCONNECT frames. Parsed as an unordered map; duplicate keys: the last wins.
 * @module
 */
import { ByteReader } from "./byte-reader.ts";
import { readTyped } from "./typed.ts";
import type { TypedData } from "./types.ts";
import type { Writer } from "./writer.ts";

/** Decodes a whole KV-LIST payload; malformed input throws SpopError(4). */
export function decodeKvList(payload: Uint8Array): Map<string, TypedData> {
  const r = new ByteReader(payload);
  const items = new Map<string, TypedData>();
  while (!r.done) {
    const key = r.name();
    items.set(key, readTyped(r));
  }
  return items;
}

/** Writes one KV item: the key as STRING-BODY (cached encoding), then the typed value. */
export function writeKvItem(w: Writer, key: string, value: TypedData): void {
  w.name(key);
  w.typed(value);
}
