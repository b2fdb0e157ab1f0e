/**
 * Which config fields a reload may change in a running process, and which need a restart.
 * @module
 */
import type { AgentConfig } from "../config/schema.ts";

/** Config fields a reload cannot change in a running process: sockets, the engine's limits, store connections, the logger. */
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
