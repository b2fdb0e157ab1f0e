/**
 * Running a Lua script by its SHA on one connection: EVALSHA, on NOSCRIPT one SCRIPT LOAD
 * shared by every call that needs it, and EVAL with the whole source as the last resort.
 * @module
 */
import type { ValkeyConnection } from "./connection.ts";
import { errorMessage } from "./errors.ts";

/** A Lua script and its SHA1, as EVALSHA names it. */
export interface Script {
  readonly source: string;
  readonly sha: string;
}

/**
 * SCRIPT LOADs in progress per connection and route key. After a SCRIPT FLUSH (or on a fresh
 * node) every batch in flight gets NOSCRIPT at once; sharing one load keeps them from each
 * sending the whole source with EVAL, which took long enough to blow the decision deadline.
 */
const loading = new WeakMap<ValkeyConnection, Map<string, Promise<unknown>>>();

/** SCRIPT LOAD of `script` on the node of `routeKey`, joined by every caller while it runs. */
export function loadScript(conn: ValkeyConnection, routeKey: string, script: Script): Promise<unknown> {
  let byRoute = loading.get(conn);
  if (byRoute === undefined) loading.set(conn, (byRoute = new Map()));
  const id = `${script.sha}|${routeKey}`;
  let load = byRoute.get(id);
  if (load === undefined) {
    load = conn.send(routeKey, ["SCRIPT", "LOAD", script.source]).finally(() => byRoute.delete(id));
    byRoute.set(id, load);
  }
  return load;
}

/** Runs `script` with `evalArgs` (`[numkeys, ...keys, ...argv]`) on the node of `routeKey`. */
export async function runScript(conn: ValkeyConnection, routeKey: string, evalArgs: string[], script: Script): Promise<unknown> {
  try {
    return await conn.send(routeKey, ["EVALSHA", script.sha, ...evalArgs]);
  } catch (error) {
    if (!errorMessage(error).startsWith("NOSCRIPT")) throw error;
  }
  try {
    await loadScript(conn, routeKey, script);
    return await conn.send(routeKey, ["EVALSHA", script.sha, ...evalArgs]);
  } catch (error) {
    // Still not cached there (e.g. a cluster node other than the one that loaded it): send the source.
    if (!errorMessage(error).startsWith("NOSCRIPT")) throw error;
    return await conn.send(routeKey, ["EVAL", script.source, ...evalArgs]);
  }
}
