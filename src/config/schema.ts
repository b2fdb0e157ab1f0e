/**
 * The resolved, validated agent configuration: every field filled, defaults applied.
 * @module
 */
import type { IdentityOptions, LimitDefinition } from "../ratelimit/policy/types.ts";
import type { ValkeyStoreOptions } from "../ratelimit/valkey/options.ts";
import type { LogLevel } from "../observe/log.ts";
import { redactUrl } from "./values.ts";
import type { AdminOptions } from "./admin.ts";

export type { LogLevel } from "../observe/log.ts";

/** The agent's whole configuration after merging flags > env > file > defaults. */
export interface AgentConfig {
  /** `host:port`, `[v6]:port` or `unix:/path` (see parseListenAddress). */
  readonly listen: string;
  /** Unix socket permissions (`"0660"` → 0o660); undefined leaves the umask's choice. */
  readonly socketMode?: number;
  readonly metrics: string | "off";
  /** 0 means "auto": the lead detects the CPUs available (cgroup cpu.max). */
  readonly workers: number;
  /** Share of a cgroup memory limit to size the agent to; 0 ignores the limit. */
  readonly memoryLimitPercent: number;
  /** CIDRs allowed to open SPOP connections; empty allows every peer. */
  readonly allowedPeers: readonly string[];
  readonly logLevel: LogLevel;
  readonly haproxy: {
    readonly varPrefix: string;
    readonly maxFrameSize: number;
    readonly helloTimeoutMs: number;
    readonly maxInFlight: number;
    readonly messages: readonly string[];
    /** The variables each ACK sets (names from ratelimit/variable-names.ts). */
    readonly variables: readonly string[];
    /** HMAC key of the response tickets (a secret: never logged); undefined: random per process. */
    readonly ticketSecret?: string;
  };
  readonly shutdownGraceMs: number;
  readonly identity: IdentityOptions;
  readonly store: {
    readonly kind: "memory" | "valkey";
    readonly keyPrefix: string;
    /** `maxKeysSet`: the user chose maxKeys (the memory limit then never lowers it). */
    readonly memory: { readonly maxKeys: number; readonly maxKeysSet: boolean };
    readonly failurePolicy: "local" | "allow" | "deny";
    readonly valkey?: ValkeyStoreOptions;
    readonly breaker: { readonly failureThreshold: number; readonly initialBackoffMs: number; readonly maxBackoffMs: number };
    readonly denyCacheMaxKeys: number;
  };
  /** The ACK sent when the handler itself fails. */
  readonly onAgentError: "allow" | "deny";
  readonly limits: readonly LimitDefinition[];
  /** Upper bound on how long per-key state is kept (SPOA_RATE_TTL). */
  readonly keyTtlSeconds: number;
  /** The admin endpoint on the metrics listener (inspect and reset a client); off by default. */
  readonly admin: AdminOptions;
  /** Where the config came from, for logs; `empty`: the file holds no setting (empty or only comments). */
  readonly source: { readonly file?: string; readonly empty?: boolean };
}

const REDACTED = "<redacted>";

function redactValkey(valkey: ValkeyStoreOptions): unknown {
  const tls = valkey.tls;
  return {
    ...valkey,
    ...(valkey.url === undefined ? {} : { url: redactUrl(valkey.url) }),
    ...(valkey.nodes === undefined ? {} : { nodes: valkey.nodes.map(redactUrl) }),
    ...(valkey.password === undefined ? {} : { password: REDACTED }),
    ...(tls === undefined
      ? {}
      : {
        tls: {
          ...tls,
          ...(tls.ca === undefined ? {} : { ca: `<PEM, ${tls.ca.length} bytes>` }),
          ...(tls.cert === undefined ? {} : { cert: `<PEM, ${tls.cert.length} bytes>` }),
          ...(tls.key === undefined ? {} : { key: REDACTED }),
        },
      }),
  };
}

/** The config with the passwords, admin token, private key and URL credentials replaced, for the startup log. */
export function redactedConfig(config: AgentConfig): unknown {
  const valkey = config.store.valkey;
  const admin = config.admin?.token === undefined ? config.admin : { ...config.admin, token: REDACTED };
  const haproxy = config.haproxy.ticketSecret === undefined ? config.haproxy : { ...config.haproxy, ticketSecret: REDACTED };
  return valkey === undefined ? { ...config, admin, haproxy } : { ...config, admin, haproxy, store: { ...config.store, valkey: redactValkey(valkey) } };
}
