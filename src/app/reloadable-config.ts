/**
 * Which config fields a reload may change in a running process, and which need a restart.
 * @module
 */
import type { AgentConfig } from "../config/schema.ts";
import { withoutTarget } from "../ratelimit/valkey/target.ts";

/**
 * Config fields a reload cannot change in a running process: sockets, the engine's limits, the
 * store's kind and tuning, the logger. Where Valkey is and how to log in (valkey/target.ts) may
 * change: stores.ts switches the connections.
 */
const FIXED_FIELDS = ["listen", "socketMode", "metrics", "workers", "logLevel", "store"] as const;
const FIXED_HAPROXY_FIELDS = ["maxFrameSize", "helloTimeoutMs", "maxInFlight"] as const;

/**
 * What a reload can apply: `next` with every restart-only field kept at its running value, and
 * the names of the fields whose change was therefore refused.
 */
export function reloadableConfig(running: AgentConfig, next: AgentConfig): { config: AgentConfig; refused: readonly string[] } {
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  const refused: string[] = [];
  const kept: Record<string, unknown> = {};
  for (const field of FIXED_FIELDS) {
    if (field === "store" && same(storeWithoutTarget(running), storeWithoutTarget(next))) {
      kept.store = next.store;
      continue;
    }
    if (!same(running[field], next[field])) refused.push(field);
    kept[field] = running[field];
  }
  const haproxy: Record<string, unknown> = { ...next.haproxy };
  for (const field of FIXED_HAPROXY_FIELDS) {
    if (!same(running.haproxy[field], next.haproxy[field])) refused.push(`haproxy.${field}`);
    haproxy[field] = running.haproxy[field];
  }
  return { config: { ...next, ...kept, haproxy } as AgentConfig, refused };
}

function storeWithoutTarget(config: AgentConfig): unknown {
  const valkey = config.store.valkey;
  return valkey === undefined ? config.store : { ...config.store, valkey: withoutTarget(valkey) };
}
