/**
 * The lean script path: batched GCRA calls as pre-encoded packed EVALSHAs on raw pipelined
 * sockets, one small pool per node. node-redis keeps everything else (topology discovery and
 * the slot map, sentinel, TLS, pub/sub, admin commands), and the calls this path cannot take
 * go through it unchanged:
 *
 * - sentinel or TLS topologies (the path is not built for them: `leanScriptPath` → undefined);
 * - a cluster slot whose primary node-redis does not know yet;
 * - a node whose raw socket is not connected (yet, or again): node-redis may already be;
 * - a `MOVED`/`ASK` whose target has no ready lean socket (a redirect to a ready one is
 *   followed here: `MOVED` re-sent there and remembered for the slot until node-redis' map
 *   agrees, `ASK` re-sent there after `ASKING`, in one write);
 * - `NOSCRIPT` twice in a row (after one shared SCRIPT LOAD per socket): node-redis sends EVAL.
 * @module
 */
import type { LimitCheck } from "../../store.ts";
import { credentialsOf, type Topology, type ValkeyStoreOptions } from "../options.ts";
import type { Dialer } from "./dial.ts";
import { encodePackedBatch, fitsPacked } from "./packed-batch.ts";
import { GCRA_PACKED_LUA } from "./packed-lua.ts";
import { RespError, type RespValue } from "./resp-reader.ts";
import { encodeCommand } from "./resp-writer.ts";
import { ScriptSocket } from "./script-socket.ts";
import { keySlot } from "../slot.ts";
import { createHash } from "node:crypto";

/** SHA1 of the packed script, as EVALSHA names it. */
export const PACKED_SHA = createHash("sha1").update(GCRA_PACKED_LUA).digest("hex");
const LOAD_PACKED = encodeCommand(["SCRIPT", "LOAD", GCRA_PACKED_LUA]);
const REDIRECT = /^(MOVED|ASK) /;
/** `MOVED 3999 127.0.0.1:6381` / `ASK 3999 127.0.0.1:6381`. */
const REDIRECT_PARTS = /^(MOVED|ASK) (\d+) (\S+)/;
const ASKING = encodeCommand(["ASKING"]);

/** Sends batches the lean way where it can. */
export interface ScriptPath {
  /**
   * The reply of one batch's script call (the classic script's flat integer list), or the
   * reply of `fallback()` (node-redis, classic script) where the lean path cannot take it.
   */
  run(routeKey: string, requests: readonly (readonly LimitCheck[])[], fallback: () => Promise<unknown>): Promise<unknown>;
  /** Resolves when every socket opened so far is ready, or after `waitMs`. */
  settle(waitMs: number): Promise<void>;
  /** Raw sockets open per node address ("host:port"), for the scale benchmark. */
  sockets(): ReadonlyMap<string, number>;
  close(): void;
}

function splitAddress(address: string): { host: string; port: number } | undefined {
  const at = address.lastIndexOf(":");
  const port = Number(address.slice(at + 1));
  if (at <= 0 || !Number.isInteger(port)) return undefined;
  return { host: address.slice(0, at).replace(/^\[|\]$/g, ""), port };
}

/**
 * The lean path for `topology`, or undefined where node-redis must carry script calls too
 * (sentinel: the primary moves under us; TLS: the runtimes' TLS client sockets differ).
 */
export function leanScriptPath(
  topology: Topology,
  options: {
    readonly store: ValkeyStoreOptions;
    readonly dial: Dialer;
    /** The cluster primary that owns a key ("host:port"), "" while unknown (node-redis' slot map). */
    readonly nodeOf: (routeKey: string) => string;
    readonly onError: (error: unknown) => void;
  },
): ScriptPath | undefined {
  if (topology.kind === "sentinel" || topology.tls) return undefined;
  const { store, dial, onError } = options;
  const credentials = credentialsOf(store);
  const perNode = Math.max(1, Math.floor(store.connections));
  const pools = new Map<string, { readonly sockets: ScriptSocket[]; next: number }>();
  const loading = new WeakMap<ScriptSocket, Promise<unknown>>();
  const standalone = topology.kind === "standalone" ? `${topology.host}:${topology.port}` : "";

  const poolOf = (address: string) => {
    let pool = pools.get(address);
    if (pool !== undefined) return pool;
    const target = splitAddress(address);
    if (target === undefined) return undefined;
    const sockets = Array.from({ length: perNode }, () =>
      new ScriptSocket({
        ...target,
        dial,
        ...credentials,
        db: topology.kind === "standalone" ? topology.db : 0,
        scripts: [GCRA_PACKED_LUA],
        connectTimeoutMs: Math.max(1000, store.deadlineMs * 20),
        onError,
      }));
    pools.set(address, (pool = { sockets, next: 0 }));
    return pool;
  };
  // Standalone: connect now, so the first decision finds the socket ready.
  if (standalone !== "") poolOf(standalone);

  /** One SCRIPT LOAD per socket however many batches met NOSCRIPT at once (a SCRIPT FLUSH). */
  const load = (socket: ScriptSocket): Promise<unknown> => {
    let pending = loading.get(socket);
    if (pending === undefined) {
      pending = socket.call(LOAD_PACKED).finally(() => loading.delete(socket));
      loading.set(socket, pending);
    }
    return pending;
  };

  /** Slots a MOVED sent elsewhere than node-redis' map says (cleared when the map agrees). */
  const moved = new Map<number, string>();
  const readySocket = (address: string): ScriptSocket | undefined => {
    const pool = poolOf(address);
    const socket = pool?.sockets[pool.next++ % pool.sockets.length];
    return socket?.ready ? socket : undefined;
  };

  /** Follows one MOVED or ASK on the lean sockets when the target has one ready; else node-redis. */
  const redirect = (error: RespError, command: Uint8Array, fallback: () => Promise<unknown>): Promise<unknown> => {
    const parts = REDIRECT_PARTS.exec(error.message);
    const target = parts === null ? undefined : readySocket(parts[3]);
    if (parts === null || target === undefined) return fallback();
    if (parts[1] === "MOVED") {
      moved.set(Number(parts[2]), parts[3]);
      return target.call(command).catch((again: unknown) => (again instanceof RespError && REDIRECT.test(again.message) ? fallback() : Promise.reject(again)));
    }
    // ASK: the slot is migrating; only the next command may run there, after ASKING.
    void target.call(ASKING).catch(() => undefined);
    return target.call(command).catch((again: unknown) => (again instanceof RespError && REDIRECT.test(again.message) ? fallback() : Promise.reject(again)));
  };

  const run = async (socket: ScriptSocket, command: Uint8Array, fallback: () => Promise<unknown>): Promise<unknown> => {
    let reply: RespValue;
    try {
      return await socket.call(command);
    } catch (error) {
      if (!(error instanceof RespError)) throw error;
      if (REDIRECT.test(error.message)) return redirect(error, command, fallback);
      if (!error.message.startsWith("NOSCRIPT")) throw error;
    }
    try {
      await load(socket);
      reply = await socket.call(command);
    } catch (error) {
      if (error instanceof RespError && (REDIRECT.test(error.message) || error.message.startsWith("NOSCRIPT"))) return fallback();
      throw error;
    }
    return reply;
  };

  return {
    run(routeKey, requests, fallback) {
      let address = standalone;
      if (address === "") {
        address = options.nodeOf(routeKey);
        if (moved.size > 0) {
          const slot = keySlot(routeKey);
          const override = moved.get(slot);
          if (override === address) moved.delete(slot);
          else if (override !== undefined) address = override;
        }
      }
      const pool = address === "" || !fitsPacked(requests) ? undefined : poolOf(address);
      if (pool === undefined) return fallback();
      const socket = pool.sockets[pool.next++ % pool.sockets.length];
      if (!socket.ready) return fallback();
      return run(socket, encodePackedBatch(requests, store.keyPrefix, PACKED_SHA), fallback);
    },
    async settle(waitMs) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const all = [...pools.values()].flatMap((pool) => pool.sockets.map((socket) => socket.whenReady()));
      await Promise.race([Promise.all(all), new Promise<void>((resolve) => (timer = setTimeout(resolve, waitMs)))]);
      clearTimeout(timer);
    },
    sockets() {
      const open = new Map<string, number>();
      for (const [address, pool] of pools) open.set(address, pool.sockets.filter((s) => s.ready).length);
      return open;
    },
    close() {
      for (const pool of pools.values()) for (const socket of pool.sockets) socket.close();
      pools.clear();
    },
  };
}
