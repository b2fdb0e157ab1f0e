/**
 * Peek at and delete single GCRA keys over a Valkey connection, for `inspect` and `reset`.
 * Kept apart from the decision path (store.ts): separate commands, no batching, no deadline
 * beyond the connection's own.
 * @module
 */
import type { StoredKey } from "../store-admin.ts";
import type { ValkeyConnection } from "./connection.ts";
import { ValkeyStoreError } from "./errors.ts";
import { PEEK_KEY_LUA } from "./peek-lua.ts";

function integer(value: unknown, what: string): number {
  const n = typeof value === "number" ? value : typeof value === "string" ? Number(value) : Number.NaN;
  if (!Number.isFinite(n)) throw new ValkeyStoreError("reply", `Cannot read ${what} from Valkey's reply: ${String(value)}`);
  return n;
}

/** A TAT as stored by the GCRA script (`%.0f` text); undefined for a nil reply. */
function storedTat(value: unknown, key: string): number | undefined {
  if (value === null || value === undefined) return undefined;
  return integer(typeof value === "object" ? String(value) : value, `the TAT of ${key}`);
}

/** Reads `key` (the full Valkey key) without writing anything: the server's now, TAT and TTL. */
export async function peekKey(conn: ValkeyConnection, key: string): Promise<StoredKey> {
  const reply = await conn.send(key, ["EVAL", PEEK_KEY_LUA, "1", key]);
  if (!Array.isArray(reply) || reply.length !== 4) {
    throw new ValkeyStoreError("reply", `Cannot decode the peek reply for ${key}`);
  }
  const nowUs = integer(reply[0], "TIME") * 1_000_000 + integer(reply[1], "TIME");
  const ttl = integer(reply[3], "PTTL");
  return { nowUs, tatUs: storedTat(reply[2], key), ...(ttl >= 0 ? { ttlMs: ttl } : {}) };
}

/** Deletes `key`; answers the TAT it held (GETDEL), undefined when it was absent. */
export async function deleteKey(conn: ValkeyConnection, key: string): Promise<number | undefined> {
  return storedTat(await conn.send(key, ["GETDEL", key]), key);
}

/** Publishes each key on `channel` (store-admin.ts resetChannel), so every agent drops its cached denial. */
export async function announceReset(conn: ValkeyConnection, channel: string, keys: readonly string[]): Promise<void> {
  await Promise.all(keys.map((key) => conn.send(key, ["PUBLISH", channel, key])));
}

/**
 * Every key starting with `head`, which holds a hash tag (`rl:{10.0.0.7}`): all of them live on
 * the slot of that tag, so SCAN on the node `head` routes to finds them all, in a cluster too.
 */
export async function scanKeys(conn: ValkeyConnection, head: string): Promise<string[]> {
  const pattern = `${head.replace(/[*?[\]\\]/g, "\\$&")}*`;
  const keys: string[] = [];
  let cursor = "0";
  do {
    const reply = await conn.send(head, ["SCAN", cursor, "MATCH", pattern, "COUNT", "1000"]);
    if (!Array.isArray(reply) || reply.length !== 2 || !Array.isArray(reply[1])) throw new ValkeyStoreError("reply", `Cannot decode the SCAN reply for ${head}`);
    cursor = String(reply[0]);
    for (const key of reply[1] as unknown[]) keys.push(String(key));
  } while (cursor !== "0");
  return keys.sort();
}
