/**
 * THE table of configuration fields. Flags, env vars, file keys, defaults, help text and the
 * generated docs/configuration.md all come from here, so they cannot drift apart.
 * @module
 */
import { DEFAULT_ACK_VARIABLES } from "../ratelimit/answer/ack-selection.ts";

/** A resolved field value before it is placed into AgentConfig. */
export type FieldValue = string | number | boolean | readonly string[];

/** How a field's value is written and checked. */
export type FieldKind =
  | { readonly type: "string"; readonly pattern?: RegExp; readonly expected?: string }
  | { readonly type: "int"; readonly min: number; readonly max: number; readonly unit?: string }
  | { readonly type: "bool" }
  | { readonly type: "enum"; readonly values: readonly string[] }
  | { readonly type: "list"; readonly item: "cidr" | "url" | "host-port" | "name" | "variable" }
  | { readonly type: "url" }
  | { readonly type: "path" }
  | { readonly type: "secret" }
  | { readonly type: "listen" }
  | { readonly type: "metrics" }
  | { readonly type: "workers" }
  | { readonly type: "mode" }
  | { readonly type: "log-level" };

/** The sections of the help text and of the generated reference, in order. */
export const SECTIONS = {
  agent: "Agent",
  haproxy: "HAProxy / SPOE",
  identity: "Client identity",
  seed: "Default limit (used when `limits` is absent; the seed agent's variables)",
  store: "Limiter store",
  valkey: "Valkey",
  admin: "Admin endpoint (inspect and reset a client)",
} as const;

/** One configuration field and every way to set it. */
export interface FieldSpec {
  /** Dotted path of the file key (`store.valkey.deadlineMs`); also the field's id. */
  readonly key: string;
  /** False for values that may not come from the config file (the file's own path, secrets). */
  readonly inFile: boolean;
  /** Long flag name without dashes. */
  readonly flag?: string;
  /** Env vars, strongest first. */
  readonly env?: readonly string[];
  readonly kind: FieldKind;
  readonly default?: FieldValue;
  readonly description: string;
  readonly section: keyof typeof SECTIONS;
}

const MS_HOUR = 3_600_000;
const NAME = /^[A-Za-z0-9_.-]+$/;
const NAME_TEXT = "letters, digits, '_', '.' and '-'";

/** Every field, in help/doc order. */
export const FIELDS: readonly FieldSpec[] = [
  { key: "config", inFile: false, flag: "config", env: ["CONFIG_FILE"], kind: { type: "path" }, section: "agent",
    description: "YAML or JSON config file (camelCase keys; JSON is YAML too). Watched and reloaded on change." },
  { key: "listen", inFile: true, flag: "listen", env: ["SPOE_ADDR"], kind: { type: "listen" }, default: "127.0.0.1:12345", section: "agent",
    description: "Where HAProxy connects: `host:port`, `[v6]:port` or `unix:/path/to.sock`." },
  { key: "socketMode", inFile: true, flag: "socket-mode", kind: { type: "mode" }, section: "agent",
    description: "Permissions of a unix listen socket, octal (`\"0660\"`; quote it in YAML). Ignored for TCP." },
  { key: "allowedPeers", inFile: true, flag: "allow-peer", env: ["SPOA_ALLOWED_PEERS"], kind: { type: "list", item: "cidr" }, default: [], section: "agent",
    description: "CIDRs (comma-separated) that may open SPOP connections; others are closed at once and counted. Empty: anyone who can reach the port (SPOP has no authentication)." },
  { key: "metrics", inFile: true, flag: "metrics", env: ["METRICS_ADDR"], kind: { type: "metrics" }, default: "127.0.0.1:12346", section: "agent",
    description: "Prometheus `/metrics` and `/healthz`, `/readyz` listen address, or `off`. Loopback by default; a container sets `0.0.0.0:12346` so Prometheus can scrape it." },
  { key: "workers", inFile: true, flag: "workers", env: ["WORKERS"], kind: { type: "workers" }, default: 1, section: "agent",
    description: "Worker processes sharing the listen port (Linux SO_REUSEPORT); `auto` = one per available CPU." },
  { key: "memoryLimitPercent", inFile: true, flag: "memory-limit-percent", env: ["SPOA_MEMORY_LIMIT_PERCENT"], kind: { type: "int", min: 0, max: 100, unit: "percent" }, default: 90, section: "agent",
    description: "Share of the container's memory limit (cgroup v2 `memory.max`, v1 `memory.limit_in_bytes`) the agent sizes itself to: the in-memory store's key bound shrinks to fit. 0 ignores the limit." },
  { key: "logLevel", inFile: true, flag: "log-level", env: ["LOG_LEVEL", "RUST_LOG"], kind: { type: "log-level" }, default: "info", section: "agent",
    description: "trace, debug, info, warn, error or off. RUST_LOG forms such as `spoa=debug` or `info,foo=warn` are accepted; LOG_LEVEL wins." },
  { key: "shutdownGraceMs", inFile: true, flag: "shutdown-grace", kind: { type: "int", min: 0, max: MS_HOUR, unit: "milliseconds" }, default: 10_000, section: "agent",
    description: "On SIGTERM, how long in-flight requests may take before the agent exits anyway." },
  { key: "onAgentError", inFile: true, flag: "on-agent-error", kind: { type: "enum", values: ["allow", "deny"] }, default: "allow", section: "agent",
    description: "The decision sent when the agent itself fails on a request (fail open like HAProxy by default)." },
  { key: "haproxy.messages", inFile: true, flag: "message", kind: { type: "list", item: "name" }, default: ["check-rate"], section: "haproxy",
    description: "SPOE message names the agent answers (comma-separated on the command line); the default for `limits[].messages`." },
  { key: "haproxy.varPrefix", inFile: true, flag: "var-prefix", kind: { type: "string", pattern: /^[A-Za-z0-9_.]+$/, expected: "letters, digits, '_' and '.'" }, default: "rl", section: "haproxy",
    description: "The `option var-prefix` of the SPOE config; only used to check that every variable name fits HAProxy's limit." },
  { key: "haproxy.variables", inFile: true, flag: "variables", env: ["SPOA_VARIABLES"], kind: { type: "list", item: "variable" }, default: DEFAULT_ACK_VARIABLES, section: "haproxy",
    description: "The variables each ACK sets (comma-separated on the command line): every one costs HAProxy a `set-var` per request, and the agent computes only these. The default is what the shipped HAProxy configs and the seed's deny rule read, plus `degraded` (sent only when the failure policy decided), `ticket` and `deny_status` (sent only for limits that see the response). `ip_score` alone is enough for the seed's rule." },
  { key: "haproxy.maxFrameSize", inFile: true, flag: "max-frame-size", kind: { type: "int", min: 256, max: 16_777_216, unit: "bytes" }, default: 16_380, section: "haproxy",
    description: "Largest SPOP frame accepted; the negotiated size is the smaller of this and HAProxy's." },
  { key: "haproxy.helloTimeoutMs", inFile: true, flag: "hello-timeout", kind: { type: "int", min: 1, max: MS_HOUR, unit: "milliseconds" }, default: 10_000, section: "haproxy",
    description: "A connection that sends no HAPROXY-HELLO within this time is closed." },
  { key: "haproxy.maxInFlight", inFile: true, flag: "max-in-flight", kind: { type: "int", min: 1, max: 10_000_000 }, default: 10_000, section: "haproxy",
    description: "NOTIFY frames being decided at once, over all connections; above it the agent stops reading." },
  { key: "haproxy.ticketSecret", inFile: false, env: ["SPOA_TICKET_SECRET"], kind: { type: "secret" }, section: "haproxy",
    description: "Key of the HMAC that signs `txn.<p>.ticket` for limits that see the response (at least 16 characters; the same on every agent of a fleet; env only, never logged). Unset: a random key per process, so a response reaching another or a restarted agent is refused and its lease waits for `leaseTtl`." },
  { key: "haproxy.ticketSecretFile", inFile: true, flag: "ticket-secret-file", env: ["SPOA_TICKET_SECRET_FILE"], kind: { type: "path" }, section: "haproxy",
    description: "File holding the ticket secret (a mounted Secret); one trailing newline is dropped." },
  { key: "identity.trustedProxies", inFile: true, flag: "trusted-proxies", env: ["TRUSTED_PROXIES"], kind: { type: "list", item: "cidr" }, default: [], section: "identity",
    description: "CIDRs (comma-separated) whose Forwarded / X-Forwarded-For headers are believed; others are keyed by source address." },
  { key: "identity.ipv6PrefixLength", inFile: true, flag: "ipv6-prefix", kind: { type: "int", min: 1, max: 128 }, default: 64, section: "identity",
    description: "IPv6 clients are keyed by this prefix, so one host cannot dodge a limit by rotating addresses." },
  { key: "identity.args.forwarded", inFile: true, kind: { type: "string", pattern: NAME, expected: NAME_TEXT }, default: "ip_fwd", section: "identity",
    description: "Message argument carrying the RFC 7239 Forwarded header." },
  { key: "identity.args.xff", inFile: true, kind: { type: "string", pattern: NAME, expected: NAME_TEXT }, default: "ip_xff", section: "identity",
    description: "Message argument carrying X-Forwarded-For." },
  { key: "identity.args.source", inFile: true, kind: { type: "string", pattern: NAME, expected: NAME_TEXT }, default: "ip_src", section: "identity",
    description: "Message argument carrying the connection's source address." },
  { key: "defaultLimit.intervalUs", inFile: true, flag: "rate-interval", env: ["SPOA_RATE_INTERVAL"], kind: { type: "int", min: 1, max: 86_400_000_000, unit: "microseconds" }, default: 10_000, section: "seed",
    description: "Emission interval T of the default limit: one request per T (10000 µs = 100/s)." },
  { key: "defaultLimit.burstUs", inFile: true, flag: "rate-burst", env: ["SPOA_RATE_BURST"], kind: { type: "int", min: 0, max: 86_400_000_000, unit: "microseconds" }, default: 200_000, section: "seed",
    description: "Burst tolerance τ of the default limit; a fresh client may send floor(τ/T) + 1 requests at once." },
  { key: "keyTtlSeconds", inFile: true, flag: "rate-ttl", env: ["SPOA_RATE_TTL"], kind: { type: "int", min: 1, max: 31_536_000, unit: "seconds" }, default: 1800, section: "seed",
    description: "Upper bound on how long per-client state is kept (state also expires as soon as it is back to a full burst)." },
  { key: "store.failurePolicy", inFile: true, flag: "failure-policy", env: ["FAILURE_POLICY"], kind: { type: "enum", values: ["local", "allow", "deny"] }, default: "local", section: "store",
    description: "When Valkey is slow or down: `local` (decide in memory), `allow` or `deny`." },
  { key: "store.keyPrefix", inFile: true, kind: { type: "string", pattern: /^[^{}\s]{0,64}$/, expected: "at most 64 characters without '{', '}' or spaces" }, default: "rl:", section: "store",
    description: "Prefix of every store key (Valkey keys and memory keys)." },
  { key: "store.memory.maxKeys", inFile: true, kind: { type: "int", min: 1, max: 1_000_000_000 }, default: 1_000_000, section: "store",
    description: "Most keys the in-memory store keeps; beyond it the key nearest to expiry among a few sampled is evicted. Unless set, lowered to fit `memoryLimitPercent` of a container memory limit." },
  { key: "store.denyCacheMaxKeys", inFile: true, kind: { type: "int", min: 0, max: 100_000_000 }, default: 100_000, section: "store",
    description: "Most denied keys answered locally until their retry-after (0 disables the deny cache)." },
  { key: "store.breaker.failureThreshold", inFile: true, kind: { type: "int", min: 1, max: 1_000_000 }, default: 5, section: "store",
    description: "Consecutive Valkey failures that open the circuit breaker." },
  { key: "store.breaker.initialBackoffMs", inFile: true, kind: { type: "int", min: 1, max: MS_HOUR, unit: "milliseconds" }, default: 250, section: "store",
    description: "First wait before the breaker lets a probe through; doubles on each failed probe." },
  { key: "store.breaker.maxBackoffMs", inFile: true, kind: { type: "int", min: 1, max: MS_HOUR, unit: "milliseconds" }, default: 5_000, section: "store",
    description: "Longest wait between probes." },
  { key: "store.valkey.url", inFile: true, flag: "valkey-url", env: ["VALKEY_URL"], kind: { type: "url" }, section: "valkey",
    description: "Standalone Valkey, `redis://host:6379` or `rediss://` for TLS. Setting url, nodes or sentinels selects the Valkey store." },
  { key: "store.valkey.nodes", inFile: true, flag: "valkey-nodes", env: ["VALKEY_NODES"], kind: { type: "list", item: "url" }, section: "valkey",
    description: "Cluster seed nodes, comma-separated `redis://` URLs." },
  { key: "store.valkey.sentinels", inFile: true, flag: "valkey-sentinels", env: ["VALKEY_SENTINELS"], kind: { type: "list", item: "host-port" }, section: "valkey",
    description: "Sentinels, comma-separated `host:port`; needs the master name." },
  { key: "store.valkey.masterName", inFile: true, flag: "valkey-master", env: ["VALKEY_MASTER_NAME"], kind: { type: "string", pattern: /^\S+$/, expected: "a name without spaces" }, section: "valkey",
    description: "Sentinel master name." },
  { key: "store.valkey.username", inFile: true, flag: "valkey-username", env: ["VALKEY_USERNAME"], kind: { type: "string" }, section: "valkey",
    description: "ACL user name." },
  { key: "store.valkey.password", inFile: false, env: ["VALKEY_PASSWORD"], kind: { type: "secret" }, section: "valkey",
    description: "Password (env only, never a flag or file key, never logged)." },
  { key: "store.valkey.passwordFile", inFile: true, flag: "valkey-password-file", env: ["VALKEY_PASSWORD_FILE"], kind: { type: "path" }, section: "valkey",
    description: "File holding the password (a mounted Secret); one trailing newline is dropped." },
  { key: "store.valkey.db", inFile: true, kind: { type: "int", min: 0, max: 1000 }, section: "valkey",
    description: "Database number (standalone and sentinel only)." },
  { key: "store.valkey.tls.caFile", inFile: true, flag: "valkey-ca-file", env: ["VALKEY_TLS_CA_FILE"], kind: { type: "path" }, section: "valkey",
    description: "PEM file of the CA that signed the Valkey server certificate; enables TLS." },
  { key: "store.valkey.tls.certFile", inFile: true, flag: "valkey-cert-file", env: ["VALKEY_TLS_CERT_FILE"], kind: { type: "path" }, section: "valkey",
    description: "PEM client certificate for mutual TLS (with the key file)." },
  { key: "store.valkey.tls.keyFile", inFile: true, flag: "valkey-key-file", env: ["VALKEY_TLS_KEY_FILE"], kind: { type: "path" }, section: "valkey",
    description: "PEM private key of the client certificate." },
  { key: "store.valkey.tls.serverName", inFile: true, flag: "valkey-tls-servername", kind: { type: "string", pattern: /^\S+$/, expected: "a host name" }, section: "valkey",
    description: "Name to verify in the server certificate (SNI), when it differs from the URL host." },
  { key: "store.valkey.tls.rejectUnauthorized", inFile: true, kind: { type: "bool" }, default: true, section: "valkey",
    description: "Verify the server certificate. Turn off only for testing." },
  { key: "store.valkey.deadlineMs", inFile: true, flag: "valkey-deadline", kind: { type: "int", min: 1, max: 60_000, unit: "milliseconds" }, default: 50, section: "valkey",
    description: "A decision Valkey has not answered within this time goes to the failure policy; keep it at most half of HAProxy's `timeout processing` (100 ms in the shipped SPOE config), see docs/valkey.md." },
  { key: "store.valkey.connections", inFile: true, kind: { type: "int", min: 1, max: 64 }, default: 2, section: "valkey",
    description: "Connections per Valkey node." },
  { key: "store.valkey.batchDelayMs", inFile: true, kind: { type: "int", min: 0, max: 20, unit: "milliseconds" }, default: 0, section: "valkey",
    description: "Hold decisions this long before the script call so that several share one (with `batch`): less CPU per decision at moderate rates for this much more latency. 0: one call per event-loop turn." },
  { key: "store.valkey.hotKeyRate", inFile: true, kind: { type: "int", min: 0, max: 100_000_000, unit: "requests per second" }, default: 0, section: "valkey",
    description: "A single-limit key whose requests on this agent exceed this rate is decided from slices of its budget reserved in Valkey (one script call per slice, not per request; bound and fallback in docs/valkey.md, \"Hot keys\"). 0: off." },
  { key: "store.valkey.batch", inFile: true, kind: { type: "bool" }, default: true, section: "valkey",
    description: "Pipeline every decision issued in the same tick into one write." },
  { key: "admin.enabled", inFile: true, flag: "admin", env: ["SPOA_ADMIN"], kind: { type: "bool" }, default: false, section: "admin",
    description: "Serve `/admin/inspect` and `/admin/reset` on the metrics listener (see docs/troubleshooting.md); needs a token." },
  { key: "admin.token", inFile: false, env: ["SPOA_ADMIN_TOKEN"], kind: { type: "secret" }, section: "admin",
    description: "Bearer token of the admin endpoint, at least 16 characters (env only, never a flag or file key, never logged)." },
  { key: "admin.tokenFile", inFile: true, flag: "admin-token-file", env: ["SPOA_ADMIN_TOKEN_FILE"], kind: { type: "path" }, section: "admin",
    description: "File holding the admin token (a mounted Secret); one trailing newline is dropped. Re-read on reload." },
];

/** The field with this file key path; throws on a programming error (an unknown key). */
export function field(key: string): FieldSpec {
  const spec = FIELDS.find((f) => f.key === key);
  if (spec === undefined) throw new RangeError(`Unknown config field "${key}"`);
  return spec;
}
