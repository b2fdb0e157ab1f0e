/**
 * The Valkey store's options and their translation into node-redis client options.
 * Every connection is configured for Valkey: no Redis Enterprise maintenance handshake,
 * no unbounded offline queue, reconnect with capped exponential backoff.
 * @module
 */
import type { RedisClientOptions } from "redis";
import { ValkeyStoreError } from "./errors.ts";

/**
 * How to reach Valkey and how to talk to it (built by the config layer).
 *
 * @example A three-node cluster over TLS
 * ```ts
 * import type { ValkeyStoreOptions } from "@spoa-gcra/spoa-gcra/valkey";
 *
 * const options: ValkeyStoreOptions = {
 *   nodes: ["rediss://valkey-0:6379", "rediss://valkey-1:6379", "rediss://valkey-2:6379"],
 *   username: "spoa",
 *   password: "from-a-secret",
 *   tls: { serverName: "valkey.internal" },
 *   keyPrefix: "rl:",
 *   deadlineMs: 10,
 *   connections: 2,
 *   batch: true,
 * };
 * console.assert(options.nodes?.length === 3);
 * ```
 */
export interface ValkeyStoreOptions {
  /** redis:// or rediss:// (standalone); db from the path. */
  readonly url?: string;
  /** Cluster seed URLs (env VALKEY_NODES, comma-separated redis:// URLs). */
  readonly nodes?: readonly string[];
  /** Sentinel "host:port" list. */
  readonly sentinels?: readonly string[];
  /** Sentinel master name. */
  readonly masterName?: string;
  readonly username?: string;
  /** Already resolved from env/file by the config layer; never logged. */
  readonly password?: string;
  readonly db?: number;
  /** PEM contents (already read from files). Present (even `{}`) = TLS on. */
  readonly tls?: {
    readonly ca?: string;
    readonly cert?: string;
    readonly key?: string;
    readonly serverName?: string;
    readonly rejectUnauthorized?: boolean;
  };
  /**
   * The files the password and TLS material were read from (config layer). The agent watches
   * them: a rotated secret reloads the config, and the store switches to new connections.
   */
  readonly secretFiles?: readonly string[];
  /** Prepended to every key the store sends (default "rl:"). */
  readonly keyPrefix: string;
  /** Per decision; a late reply is counted and ignored (default 50). */
  readonly deadlineMs: number;
  /** Pipelined connections per node, used round-robin (default 2). */
  readonly connections: number;
  /** Micro-batching: requests of one tick for one node/slot go in one script call. */
  readonly batch: boolean;
  /**
   * Micro-batching only: hold requests this long (ms) before the script call, so that at a
   * moderate rate several share one call (less CPU per decision, this much more latency).
   * 0 or absent: one call per event-loop turn.
   */
  readonly batchDelayMs?: number;
  /**
   * Requests per second on one agent above which a single-limit key is decided from slices
   * (hot/hot-slices.ts); 0 or absent: off. Applied by the agent around the store.
   */
  readonly hotKeyRate?: number;
}

/** The topology the options select. */
export type Topology =
  | { readonly kind: "standalone"; readonly host: string; readonly port: number; readonly tls: boolean; readonly db: number }
  | { readonly kind: "cluster"; readonly seeds: readonly { host: string; port: number }[]; readonly tls: boolean }
  | { readonly kind: "sentinel"; readonly sentinels: readonly { host: string; port: number }[]; readonly masterName: string };

/** Credentials from options, else from the URL. */
export interface Credentials {
  readonly username?: string;
  readonly password?: string;
}

/** Capped exponential backoff with jitter: 50 ms ×2 up to 2 s. */
export function reconnectDelayMs(retries: number): number {
  return Math.min(50 * 2 ** Math.min(retries, 10), 2000) + Math.floor(Math.random() * 50);
}

/** URL schemes accepted for Valkey; the `s` forms mean TLS. */
const URL_PROTOCOLS = new Set(["redis:", "rediss:", "valkey:", "valkeys:"]);
const isTlsUrl = (u: URL) => u.protocol === "rediss:" || u.protocol === "valkeys:";

function parseUrl(url: string): URL {
  try {
    const parsed = new URL(url);
    if (!URL_PROTOCOLS.has(parsed.protocol)) throw new TypeError(parsed.protocol);
    return parsed;
  } catch (cause) {
    // The URL may hold a password: never echo it.
    throw new ValkeyStoreError("config", "Invalid Valkey URL: expected redis://, rediss://, valkey:// or valkeys://host:port", { cause });
  }
}

function hostPort(text: string): { host: string; port: number } {
  const at = text.lastIndexOf(":");
  const port = Number(text.slice(at + 1));
  if (at <= 0 || !Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new ValkeyStoreError("config", `Invalid sentinel address "${text}": expected host:port`);
  }
  return { host: text.slice(0, at).replace(/^\[|\]$/g, ""), port };
}

/** Which topology the options select (sentinels, then nodes, then url). */
export function topologyOf(options: ValkeyStoreOptions): Topology {
  if (options.sentinels && options.sentinels.length > 0) {
    if (!options.masterName) throw new ValkeyStoreError("config", "Sentinel mode needs masterName");
    return { kind: "sentinel", sentinels: options.sentinels.map(hostPort), masterName: options.masterName };
  }
  if (options.nodes && options.nodes.length > 0) {
    const urls = options.nodes.map(parseUrl);
    const seeds = urls.map((u) => ({ host: u.hostname.replace(/^\[|\]$/g, ""), port: Number(u.port || 6379) }));
    return { kind: "cluster", seeds, tls: options.tls !== undefined || urls.some(isTlsUrl) };
  }
  const u = parseUrl(options.url ?? "redis://127.0.0.1:6379");
  const pathDb = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0;
  return {
    kind: "standalone",
    host: u.hostname.replace(/^\[|\]$/g, ""),
    port: Number(u.port || 6379),
    tls: options.tls !== undefined || isTlsUrl(u),
    db: options.db ?? (Number.isInteger(pathDb) ? pathDb : 0),
  };
}

/** Username/password: the explicit options win over those embedded in a URL. */
export function credentialsOf(options: ValkeyStoreOptions): Credentials {
  const url = options.url ?? options.nodes?.[0];
  const parsed = url ? parseUrl(url) : undefined;
  const username = options.username ?? (parsed?.username ? decodeURIComponent(parsed.username) : undefined);
  const password = options.password ?? (parsed?.password ? decodeURIComponent(parsed.password) : undefined);
  return { ...(username ? { username } : {}), ...(password !== undefined ? { password } : {}) };
}

/** Options shared by every node-redis connection we open (sockets get host/port added). */
export function baseClientOptions(
  options: ValkeyStoreOptions,
  tls: boolean,
  withCredentials: boolean,
): RedisClientOptions {
  const t = options.tls ?? {};
  const socket = {
    connectTimeout: Math.max(1000, options.deadlineMs * 20),
    reconnectStrategy: (retries: number) => reconnectDelayMs(retries),
    ...(tls
      ? {
        tls: true as const,
        ...(t.ca ? { ca: t.ca } : {}),
        ...(t.cert ? { cert: t.cert } : {}),
        ...(t.key ? { key: t.key } : {}),
        ...(t.serverName ? { servername: t.serverName } : {}),
        rejectUnauthorized: t.rejectUnauthorized ?? true,
      }
      : {}),
  };
  return {
    // Valkey has no Enterprise maintenance notifications: "auto" would send
    // CLIENT MAINT_NOTIFICATIONS and resolve the host on every connect.
    maintNotifications: "disabled",
    // Fail fast while reconnecting instead of queueing without bound; the failure policy decides.
    disableOfflineQueue: true,
    commandsQueueMaxLength: 10_000,
    // No per-command timeout: node-redis would arm an AbortSignal timer and listener for every
    // script call, and the store's own per-batch deadline already answers on time. A call that
    // never returns stays queued until the connection drops or the bounded queue refuses more.
    commandOptions: { timeout: 0 },
    ...(withCredentials ? credentialsOf(options) : {}),
    socket,
  } as RedisClientOptions;
}
