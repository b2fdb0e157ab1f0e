/**
 * Which Valkey options say where Valkey is and how to log in to it — the part a config reload
 * may change in a running agent (a disaster-recovery switch, a rotated password or
 * certificate) — and a description of that target safe to log.
 * @module
 */
import type { ValkeyStoreOptions } from "./options.ts";

/** The options naming the target: address, topology, database, credentials, TLS material. */
export const VALKEY_TARGET_FIELDS = ["url", "nodes", "sentinels", "masterName", "db", "username", "password", "tls", "secretFiles"] as const;

/** `options` without the target fields (what must stay equal for a reload to need no restart). */
export function withoutTarget(options: ValkeyStoreOptions): Partial<ValkeyStoreOptions> {
  const rest: Record<string, unknown> = { ...options };
  for (const field of VALKEY_TARGET_FIELDS) delete rest[field];
  return rest as Partial<ValkeyStoreOptions>;
}

/** True when `a` and `b` reach Valkey differently (another address, other credentials or TLS). */
export function targetChanged(a: ValkeyStoreOptions, b: ValkeyStoreOptions): boolean {
  return VALKEY_TARGET_FIELDS.some((field) => JSON.stringify(a[field]) !== JSON.stringify(b[field]));
}

/** "redis://127.0.0.1:6380" / "cluster 3 seeds" / "sentinel spoa via 3", never a password. */
export function describeTarget(options: ValkeyStoreOptions): string {
  if (options.sentinels && options.sentinels.length > 0) return `sentinel ${options.masterName ?? "?"} via ${options.sentinels.join(",")}`;
  if (options.nodes && options.nodes.length > 0) return `cluster seeds ${options.nodes.map(withoutPassword).join(",")}`;
  return withoutPassword(options.url ?? "redis://127.0.0.1:6379");
}

function withoutPassword(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = "";
    parsed.password = "";
    return parsed.toString().replace(/\/$/, "");
  } catch {
    return "(invalid URL)";
  }
}
