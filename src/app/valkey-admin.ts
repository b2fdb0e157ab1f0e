/**
 * The admin operations outside a running agent: straight to the configured Valkey, for the
 * `inspect` and `reset` commands. Agents' deny caches are out of reach from here.
 * @module
 */
import type { AgentConfig } from "../config/schema.ts";
import { resetChannel } from "../ratelimit/store-admin.ts";
import { type Admin, createAdmin } from "./admin.ts";

/** Admin over a fresh Valkey connection; call `close` when done. */
export async function openValkeyAdmin(config: AgentConfig, clock: { nowUs(): number }): Promise<{ readonly admin: Admin; close(): Promise<void> }> {
  const options = config.store.valkey;
  if (options === undefined) throw new RangeError("openValkeyAdmin needs a Valkey store in the config");
  // Loaded only here: the memory-store CLI never parses node-redis.
  const { openValkeyKeyAdmin } = await import("../ratelimit/valkey/admin-client.ts");
  // Policy keys already carry store.keyPrefix, as in the agent's store.
  const keys = await openValkeyKeyAdmin({ ...options, keyPrefix: "" }, { resetChannel: resetChannel(config.store.keyPrefix) });
  const admin = createAdmin({ config: () => config, stores: { kind: "valkey", primary: keys, clock } });
  return { admin, close: () => keys.close() };
}
