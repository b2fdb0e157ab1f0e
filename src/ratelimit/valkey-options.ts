/**
 * The Valkey store's options: one shape shared by the config loader (which builds it) and
 * the store (which connects with it). Type-only, so the config layer stays free of node-redis.
 * @module
 */

/** How to reach Valkey and how to talk to it (built by the config layer). */
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
  /** Prepended to every key the store sends (default "rl:"). */
  readonly keyPrefix: string;
  /** Per decision; a late reply is counted and ignored (default 10). */
  readonly deadlineMs: number;
  /** Pipelined connections per node, used round-robin (default 2). */
  readonly connections: number;
  /** Micro-batching: requests of one tick for one node/slot go in one script call. */
  readonly batch: boolean;
}
