/**
 * A one-connection Valkey client for the `inspect` and `reset` commands: the same topologies,
 * credentials and TLS as the agent's store, none of its decision machinery.
 * @module
 */
import type { KeyAdmin } from "../store-admin.ts";
import { openConnection } from "./connection.ts";
import { errorMessage, ValkeyStoreError } from "./errors.ts";
import { announceReset, deleteKey, peekKey, scanKeys } from "./key-admin.ts";
import { topologyOf, type ValkeyStoreOptions } from "./options.ts";

/** KeyAdmin over its own connection; close it when done. */
export interface ValkeyKeyAdmin extends KeyAdmin {
  close(): Promise<void>;
}

/**
 * Connects (waiting up to `waitMs`, default 3000, for the first connection) and answers with
 * a KeyAdmin. Calls fail with ValkeyStoreError "unavailable" when Valkey cannot be reached.
 * @throws {ValkeyStoreError} code "config" for unusable options.
 */
export async function openValkeyKeyAdmin(
  options: ValkeyStoreOptions,
  deps: {
    readonly waitMs?: number;
    /** Channel to announce deleted keys on (store-admin.ts resetChannel), so agents drop cached denials. */
    readonly resetChannel?: string;
  } = {},
): Promise<ValkeyKeyAdmin> {
  let lastError: unknown;
  const conn = await openConnection(topologyOf(options), {
    store: options,
    onError: (_kind, error) => {
      lastError = error;
    },
    waitMs: deps.waitMs ?? 3000,
  });
  // "not ready" alone hides why; the last connection error says it (refused, auth, TLS).
  const explain = (error: unknown): never => {
    const why = lastError === undefined ? "" : ` (${errorMessage(lastError)})`;
    throw new ValkeyStoreError(error instanceof ValkeyStoreError ? error.code : "reply", `${errorMessage(error)}${why}`, { cause: error });
  };
  return {
    peekKey: (key) => peekKey(conn, key).catch(explain),
    deleteKey: (key) => deleteKey(conn, key).catch(explain),
    listKeys: (head) => scanKeys(conn, head).catch(explain),
    ...(deps.resetChannel === undefined ? {} : { announceReset: (keys: readonly string[]) => announceReset(conn, deps.resetChannel!, keys).catch(explain) }),
    close: () => conn.close(),
  };
}
