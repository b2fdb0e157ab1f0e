/**
 * The agent's metric set and its wiring: engine events, store events and decisions become
 * `spoa_*` metrics and flood-guarded log lines. Metrics that read a part of the agent are
 * declared when the composition root hands that part over (observeStore, observeAgent,
 * observeReadiness), in the order it builds them: nothing is bound later.
 * Every label child is resolved up front or cached, so the hot path only bumps numbers.
 * @module
 */
import type { AgentEvents, CloseReason } from "../agent/events.ts";
import { createHealth, type DecideVerdict, type Health } from "../observe/health.ts";
import { createObserveHandler } from "../observe/http-handler.ts";
import type { Clock, Timers } from "../agent/time.ts";
import { systemClock } from "../runtime/host-time.ts";
import { cachedMemoryUsage, type LagSampler, type MemoryUsage, startLagSampler } from "../observe/lag.ts";
import type { Logger } from "../observe/log.ts";
import type { CounterChild, Registry } from "../observe/metrics.ts";
import type { StoreEvent } from "../ratelimit/resilience/resilient-store.ts";
import type { ResponseIssue } from "../ratelimit/response/phase-handler.ts";
import type { HaproxyHello } from "../spop/frame.ts";
import type { ContainerLimits } from "./host/container-limits.ts";
import type { FdMetrics } from "./host/fd-watch.ts";
import { TOP_METRIC_ENTRIES, type TopLists } from "./top-lists.ts";

/** One decision as the metrics count it (built from the handler's DecisionRecord). */
export interface DecisionRecord {
  /** The configured name of the limit that decided (bounded by the config). */
  readonly limit: string;
  readonly result: "allow" | "deny" | "shadow_deny";
  /** True when the failure policy decided; the reason is counted from the store's event. */
  readonly degraded: boolean;
  /** Time from NOTIFY decoded to decision, in seconds. */
  readonly seconds: number;
}

/** Readiness and the observability HTTP routes, once the store can say whether it decides. */
export interface ObservedReadiness {
  readonly health: Health;
  /** The SPOP listener is bound (true) or closed (false). */
  setListening(listening: boolean): void;
  /** Shutdown started: /readyz answers 503 "draining". */
  setDraining(draining: boolean): void;
  /** GET /metrics, /healthz, /readyz. */
  readonly httpHandler: (request: Request) => Response | Promise<Response>;
}

/** Metrics and logs of one agent process. */
export interface Telemetry {
  /** Pass to `new Agent({ events })`. */
  readonly agentEvents: AgentEvents;
  /** Pass as the ResilientStore's / Valkey store's `onEvent`. */
  onStoreEvent(event: StoreEvent): void;
  recordDecision(info: DecisionRecord): void;
  /** A response message the agent refused (forged ticket, bad cost): counted and logged once in a while. */
  responseRefused(issue: ResponseIssue): void;
  /** The store's own gauges: `spoa_valkey_reachable` while it has Valkey. */
  observeStore(store: { readonly valkeyReachable?: () => boolean | undefined }): void;
  /** The engine's gauges: `spoa_notifies_in_flight` reads the agent's count. */
  observeAgent(agent: { readonly inFlight: number }): void;
  /** Readiness from the store's verdict, and the HTTP routes that serve it with the metrics. */
  observeReadiness(canDecide: () => DecideVerdict): ObservedReadiness;
  /** The container's limits as detected at start, and the memory store's fill and evictions. */
  observeContainer(limits: ContainerLimits, memory: { readonly size: number; readonly stats: { readonly evictions: number } }): void;
  /** `spoa_top_denied` and `spoa_top_heaviest`: the top lists' few leaders per limit, rebuilt at each scrape. */
  observeTopLists(lists: Pick<TopLists, "local">): void;
  /** An SPOP peer outside allowedPeers was refused (pass to guardPeers). */
  peerRefused(remoteAddress: string): void;
  /** The descriptor metrics the fd watch reports to (spoa_process_open_fds, _max_fds, limit and accept errors). */
  readonly fds: FdMetrics;
  /** Stops the lag sampler and writes pending flood-guard counts. */
  close(): void;
}

/** What createTelemetry needs; the last two are optional (tests). */
export interface TelemetryOptions {
  readonly registry: Registry;
  readonly logger: Logger;
  readonly pid: number;
  readonly memoryUsage: () => MemoryUsage;
  /** The agent's version, for `spoa_build_info`. */
  readonly version: string;
  readonly runtime?: string;
  /** Clock of the lag sampler and memory cache; default the host's wall clock. */
  readonly clock?: Clock;
  /** Timers of the lag sampler; `false` disables it (tests). */
  readonly lagTimers?: Timers | false;
}

/** Frame type code → label (spop-protocol.md §4); anything else is "unknown". */
export const FRAME_TYPE_NAMES: Readonly<Record<number, string>> = {
  1: "haproxy_hello",
  2: "haproxy_disconnect",
  3: "notify",
  101: "agent_hello",
  102: "agent_disconnect",
  103: "ack",
};

/** DISCONNECT status codes with their own label value (§6); others count as "other". */
const KNOWN_STATUSES = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 99];
const BREAKER_VALUE = { closed: 0, "half-open": 1, open: 2 } as const;
const STORE_ERROR_KINDS = ["timeout", "unavailable", "reply", "closed", "config", "other"] as const;
const DEGRADED_REASONS = ["timeout", "error", "breaker-open"] as const;

/** Children indexed by frame type code, so frameReceived(type) is one array read. */
function frameChildren(counter: { labels(...v: string[]): CounterChild }): (type: number) => CounterChild {
  const unknown = counter.labels("unknown");
  const byCode: CounterChild[] = [];
  for (const [code, name] of Object.entries(FRAME_TYPE_NAMES)) byCode[Number(code)] = counter.labels(name);
  return (type) => byCode[type] ?? unknown;
}

function statusChildren(counter: { labels(...v: string[]): CounterChild }): (status: number) => CounterChild {
  const other = counter.labels("other");
  const byCode: CounterChild[] = [];
  for (const code of KNOWN_STATUSES) byCode[code] = counter.labels(String(code));
  return (status) => byCode[status] ?? other;
}

function errorKind(error: unknown): (typeof STORE_ERROR_KINDS)[number] {
  const code = typeof error === "object" && error !== null ? (error as { code?: unknown }).code : undefined;
  return STORE_ERROR_KINDS.find((kind) => kind === code) ?? "other";
}

/** Builds the metric set on `o.registry` and returns the hooks that feed it. */
export function createTelemetry(o: TelemetryOptions): Telemetry {
  const { registry, logger } = o;
  const clock = o.clock ?? systemClock;
  const p = "spoa_";

  const decisions = registry.counter({ name: `${p}decisions_total`, help: "Rate-limit decisions by deciding limit and result.", labelNames: ["limit", "result"] });
  const decisionSeconds = registry.histogram({ name: `${p}decision_duration_seconds`, help: "Time to decide one NOTIFY, in seconds." });
  const storeSeconds = registry.histogram({ name: `${p}store_duration_seconds`, help: "Shared store (Valkey) round trip per decision, in seconds." });
  const storeErrors = registry.counter({ name: `${p}store_errors_total`, help: "Shared store failures by kind.", labelNames: ["kind"] });
  const lateReplies = registry.counter({ name: `${p}store_late_replies_total`, help: "Store replies that arrived after the decision deadline and were ignored." });
  const breaker = registry.gauge({ name: `${p}circuit_breaker_state`, help: "Store circuit breaker: 0 closed, 1 half-open, 2 open." });
  const degraded = registry.counter({ name: `${p}degraded_decisions_total`, help: "Decisions made by the failure policy instead of the store, by reason.", labelNames: ["reason"] });
  const denyCacheHits = registry.counter({ name: `${p}deny_cache_hits_total`, help: "Denials answered from the local deny cache without asking the store." });
  const connectionsOpen = registry.gauge({ name: `${p}connections_open`, help: "Open SPOP connections from HAProxy." });
  const connectionsAccepted = registry.counter({ name: `${p}connections_accepted_total`, help: "SPOP connections accepted." });
  const framesReceived = frameChildren(registry.counter({ name: `${p}frames_received_total`, help: "SPOP frames received by type.", labelNames: ["type"] }));
  const framesSent = frameChildren(registry.counter({ name: `${p}frames_sent_total`, help: "SPOP frames sent by type.", labelNames: ["type"] }));
  const disconnectsSent = statusChildren(registry.counter({ name: `${p}disconnects_sent_total`, help: "AGENT-DISCONNECT frames sent by status code.", labelNames: ["status"] }));
  const disconnectsReceived = statusChildren(registry.counter({ name: `${p}disconnects_received_total`, help: "HAPROXY-DISCONNECT frames received by status code.", labelNames: ["status"] }));
  const handlerErrors = registry.counter({ name: `${p}handler_errors_total`, help: "NOTIFY handler failures (the NOTIFY still got an ACK)." });
  const fdLimitReached = registry.counter({ name: `${p}fd_limit_reached_total`, help: "Times the descriptor count reached the limit: new connections wait in the listen backlog." });
  const acceptErrors = registry.counter({ name: `${p}accept_errors_total`, help: "Failed accepts reported by the runtime, by errno (Bun retries silently: see spoa_fd_limit_reached_total).", labelNames: ["code"] });
  const fds: FdMetrics = {
    max: (limit) => registry.gauge({ name: `${p}process_max_fds`, help: "Soft limit on open file descriptors (RLIMIT_NOFILE; 0 where unknown)." }).set(limit),
    open: (read) => void registry.gauge({ name: `${p}process_open_fds`, help: "Open file descriptors (sampled every second; 0 where unknown).", collect: read }),
    limitReached: () => fdLimitReached.inc(),
    acceptFailed: (code) => acceptErrors.labels(code).inc(),
  };
  const peersRefused = registry.counter({ name: `${p}connections_refused_total`, help: "SPOP connections closed at once because the peer is not in allowedPeers." });
  const responseRefused = registry.counter({ name: `${p}response_refused_total`, help: "Response messages (limits that see the response) whose ticket or cost the agent refused, by reason.", labelNames: ["reason"] });
  const readPaused = registry.gauge({ name: `${p}read_paused`, help: "1 while the global in-flight limit has paused reading from HAProxy." });

  const sampler: LagSampler | undefined = o.lagTimers === false ? undefined : startLagSampler({ clock, timers: o.lagTimers });
  registry.gauge({ name: `${p}event_loop_lag_seconds`, help: "How late the latest 500 ms timer fired, in seconds.", collect: () => sampler?.lagSeconds() ?? 0 });
  const memory = cachedMemoryUsage(o.memoryUsage, { clock });
  registry.gauge({ name: `${p}process_resident_memory_bytes`, help: "Resident set size in bytes.", collect: () => memory().rss });
  registry.gauge({ name: `${p}process_heap_bytes`, help: "JavaScript heap in use, in bytes.", collect: () => memory().heapUsed });
  registry.gauge({ name: `${p}build_info`, help: "Always 1; labels carry the version and runtime.", labelNames: ["version", "runtime"] })
    .labels(o.version, o.runtime ?? "unknown").set(1);
  registry.gauge({ name: `${p}process_pid`, help: "Process id, to tell SO_REUSEPORT workers apart." }).set(o.pid);

  const byLimit = new Map<string, Readonly<Record<DecisionRecord["result"], CounterChild>>>();
  const decisionChildren = (limit: string): Readonly<Record<DecisionRecord["result"], CounterChild>> => {
    let children = byLimit.get(limit);
    if (children === undefined) {
      children = { allow: decisions.labels(limit, "allow"), deny: decisions.labels(limit, "deny"), shadow_deny: decisions.labels(limit, "shadow_deny") };
      byLimit.set(limit, children);
    }
    return children;
  };
  const storeErrorChildren = Object.fromEntries(STORE_ERROR_KINDS.map((k) => [k, storeErrors.labels(k)]));
  const degradedChildren = Object.fromEntries(DEGRADED_REASONS.map((r) => [r, degraded.labels(r)]));

  const agentEvents: AgentEvents = {
    connectionOpened(id: number, remoteAddress: string) {
      connectionsAccepted.inc();
      connectionsOpen.inc();
      logger.debug("connection opened", { conn: id, remote: remoteAddress });
    },
    connectionClosed(id: number, reason: CloseReason) {
      connectionsOpen.dec();
      logger.debug("connection closed", { conn: id, reason });
    },
    helloReceived(id: number, hello: HaproxyHello) {
      if (!logger.enabled("debug")) return;
      logger.debug(hello.healthcheck ? "health-check hello" : "hello", {
        conn: id,
        maxFrameSize: hello.maxFrameSize,
        capabilities: hello.capabilities.join(","),
        engineId: hello.engineId,
      });
    },
    frameReceived: (type: number) => framesReceived(type).inc(),
    frameSent: (type: number) => framesSent(type).inc(),
    disconnectSent(id: number, status: number, reason: string) {
      disconnectsSent(status).inc();
      if (status !== 0) logger.throttled(`disconnect-sent:${status}`, "warn", "protocol error: sent AGENT-DISCONNECT", { conn: id, status, reason });
    },
    disconnectReceived(id: number, status: number, message: string) {
      disconnectsReceived(status).inc();
      // 0 is a normal close, 2 is HAProxy ≤3.0 expiring an idle connection: routine, not an incident.
      if (status === 0 || status === 2) logger.debug("HAProxy disconnected", { conn: id, status, message });
      else logger.throttled(`disconnect-received:${status}`, "warn", "HAProxy sent HAPROXY-DISCONNECT with an error", { conn: id, status, message });
    },
    handlerFailed(id: number, error: unknown) {
      handlerErrors.inc();
      logger.throttled("handler-failed", "error", "NOTIFY handler failed", { conn: id, error });
    },
    readPaused(paused: boolean) {
      readPaused.set(paused ? 1 : 0);
      logger.throttled(`read-paused:${paused}`, paused ? "warn" : "info", paused ? "in-flight limit reached: reading paused" : "reading resumed");
    },
  };

  return {
    agentEvents,
    onStoreEvent(event: StoreEvent) {
      switch (event.kind) {
        case "degraded":
          degradedChildren[event.reason].inc();
          logger.throttled(`degraded:${event.reason}`, "warn", "store unavailable: failure policy decided", { reason: event.reason });
          return;
        case "round-trip":
          storeSeconds.observe(event.seconds);
          return;
        case "late-reply":
          lateReplies.inc();
          return;
        case "breaker":
          breaker.set(BREAKER_VALUE[event.state]);
          logger.log(event.nodeState === "open" ? "warn" : "info", "circuit breaker changed", { state: event.nodeState, ...(event.node === "" ? {} : { node: event.node, worst: event.state }) });
          return;
        case "deny-cache-hit":
          denyCacheHits.inc();
          return;
        case "store-error": {
          const kind = errorKind(event.error);
          storeErrorChildren[kind].inc();
          logger.throttled(`store-error:${kind}`, "warn", "store error", { kind, error: event.error });
          return;
        }
      }
    },
    recordDecision(info: DecisionRecord) {
      decisionChildren(info.limit)[info.result].inc();
      decisionSeconds.observe(info.seconds);
    },
    responseRefused(issue: ResponseIssue) {
      responseRefused.labels(issue.kind).inc();
      logger.throttled(`response-${issue.kind}`, "warn", "response message refused: no key's state changed", { reason: issue.kind, ...("limit" in issue ? { limit: issue.limit } : {}) });
    },
    observeStore(store) {
      const reachable = store.valkeyReachable;
      if (reachable === undefined) return;
      registry.gauge({ name: `${p}valkey_reachable`, help: "1 while Valkey answers the background PING (every 2 s), 0 after two unanswered.", collect: () => (reachable() === false ? 0 : 1) });
    },
    observeAgent(agent) {
      registry.gauge({ name: `${p}notifies_in_flight`, help: "NOTIFY frames being decided right now.", collect: () => agent.inFlight });
    },
    observeContainer(limits, memory) {
      registry.gauge({ name: `${p}memory_limit_bytes`, help: "The cgroup memory limit detected at start, in bytes (0: none)." }).set(limits.memoryLimit?.bytes ?? 0);
      registry.gauge({ name: `${p}cpu_limit_cores`, help: "The cgroup CPU limit detected at start, in cores (0: none)." }).set(limits.cpuLimit ?? 0);
      registry.gauge({ name: `${p}memory_store_max_keys`, help: "Bound on keys of the in-memory store (sized to the memory limit unless configured)." }).set(limits.sizing.maxKeys);
      registry.gauge({ name: `${p}memory_store_keys`, help: "Keys held by the in-memory store, expired ones not yet swept included.", collect: () => memory.size });
      registry.counter({ name: `${p}memory_store_evictions_total`, help: "Live keys the in-memory store dropped because it was full.", collect: () => memory.stats.evictions });
    },
    observeTopLists(lists) {
      // Bounded: limits × TOP_METRIC_ENTRIES × 2 series; an identity that leaves the top leaves no series behind.
      const samples = (list: "denied" | "heaviest", name: string) => () =>
        Object.entries(lists.local(TOP_METRIC_ENTRIES).limits).flatMap(([limit, top]) =>
          top[list].entries.map((e, i) => ({ name, labels: [["limit", limit], ["rank", String(i + 1)], ["identity", e.item]] as const, value: e.count }))
        );
      registry.computedGauge(
        { name: `${p}top_denied`, help: `Per limit, this agent's ${TOP_METRIC_ENTRIES} most denied identities over the last 1–2 minutes (denials; an upper bound).` },
        samples("denied", `${p}top_denied`),
      );
      registry.computedGauge(
        { name: `${p}top_heaviest`, help: `Per limit, this agent's ${TOP_METRIC_ENTRIES} heaviest identities over the last 1–2 minutes (cost checked, allowed or not; an upper bound).` },
        samples("heaviest", `${p}top_heaviest`),
      );
    },
    fds,
    peerRefused(remoteAddress: string) {
      peersRefused.inc();
      logger.throttled("peer-refused", "warn", "refused an SPOP connection from a peer outside allowedPeers", { remote: remoteAddress });
    },
    observeReadiness(canDecide) {
      const health = createHealth({ canDecide });
      return {
        health,
        setListening: (listening: boolean) => health.setListening(listening),
        setDraining: (draining: boolean) => health.setDraining(draining),
        httpHandler: createObserveHandler({ registry, health }),
      };
    },
    close() {
      sampler?.stop();
      logger.flushThrottled();
    },
  };
}
