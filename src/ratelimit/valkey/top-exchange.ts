/**
 * Agents share their "who is being limited" lists (../top/) through one Valkey key,
 * `<keyPrefix>top`: a JSON object of each agent's latest snapshot, rewritten atomically by a
 * small script that replaces the caller's entry and drops those older than `maxAgeMs`. GET and
 * SET inside EVALSHA/EVAL only, so the shipped ACL (GET, SET, EVAL, EVALSHA on `rl:*`) allows it; the key
 * expires when no agent writes any more.
 * @module
 */
import { createHash } from "node:crypto";
import { mergeSnapshots, type TopSnapshot } from "../top/top-tracker.ts";
import { openConnection, type ValkeyConnection } from "./connection.ts";
import { errorMessage } from "./errors.ts";
import { topologyOf, type ValkeyStoreOptions } from "./options.ts";

const PUBLISH_LUA = `
local raw = redis.call('GET', KEYS[1])
local all = {}
if raw then
  local ok, decoded = pcall(cjson.decode, raw)
  if ok and type(decoded) == 'table' then all = decoded end
end
local now = tonumber(ARGV[3])
local oldest = now - tonumber(ARGV[4])
local keep = {}
for id, entry in pairs(all) do
  if id ~= ARGV[1] and type(entry) == 'table' and tonumber(entry.at or 0) >= oldest then keep[id] = entry end
end
keep[ARGV[1]] = { at = now, snapshot = ARGV[2] }
redis.call('SET', KEYS[1], cjson.encode(keep), 'PX', ARGV[4])
return 1
`;

const PUBLISH_SHA = createHash("sha1").update(PUBLISH_LUA).digest("hex");

/** Publishes this agent's snapshot and reads everyone's. */
export interface TopExchange {
  publish(agentId: string, snapshot: TopSnapshot, nowMs: number): Promise<void>;
  /** Every agent's snapshot younger than maxAgeMs, merged (`capacity` entries per list). */
  read(nowMs: number, capacity: number): Promise<TopSnapshot>;
  close(): Promise<void>;
}

/** The key the lists live in. */
export const topKey = (keyPrefix: string): string => `${keyPrefix}top`;

function parse(raw: unknown, oldest: number): TopSnapshot[] {
  if (typeof raw !== "string") return [];
  const all = JSON.parse(raw) as Record<string, { at?: number; snapshot?: string }>;
  const out: TopSnapshot[] = [];
  for (const entry of Object.values(all)) {
    if (typeof entry?.snapshot !== "string" || (entry.at ?? 0) < oldest) continue;
    out.push(JSON.parse(entry.snapshot) as TopSnapshot);
  }
  return out;
}

/** An exchange over `conn` (the caller's connection) under `key`. */
export function topExchangeOver(conn: ValkeyConnection, key: string, maxAgeMs: number, close: () => Promise<void>): TopExchange {
  return {
    publish: async (agentId, snapshot, nowMs) => {
      const args = ["1", key, agentId, JSON.stringify(snapshot), String(nowMs), String(maxAgeMs)];
      // EVALSHA first: the source travels once per node (and script cache), not every 5 s.
      await conn.send(key, ["EVALSHA", PUBLISH_SHA, ...args]).catch((error: unknown) => {
        if (!errorMessage(error).startsWith("NOSCRIPT")) throw error;
        return conn.send(key, ["EVAL", PUBLISH_LUA, ...args]);
      });
    },
    read: async (nowMs, capacity) => mergeSnapshots(parse(await conn.send(key, ["GET", key]), nowMs - maxAgeMs), capacity),
    close,
  };
}

/** Opens its own connection (any topology) for the exchange; `onError` hears connection trouble. */
export async function openTopExchange(
  options: ValkeyStoreOptions,
  deps: { readonly maxAgeMs: number; readonly waitMs?: number; readonly onError?: (error: string) => void },
): Promise<TopExchange> {
  const conn = await openConnection(topologyOf(options), {
    store: options,
    onError: (_kind, error) => deps.onError?.(errorMessage(error)),
    waitMs: deps.waitMs ?? 2000,
  });
  return topExchangeOver(conn, topKey(options.keyPrefix), deps.maxAgeMs, () => conn.close());
}
