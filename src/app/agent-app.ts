/**
 * The agent's one composition root: from a configuration to a serving agent, built in
 * dependency order — telemetry, host limits, store, top lists, policy handler, engine,
 * listeners, readiness, watchers — so every part gets what it needs when it is made and
 * nothing is bound afterwards. The CLI parses, prints and calls it; tests build it with fake
 * host probes.
 * @module
 */
import { Agent } from "../agent/agent.ts";
import type { ListenAddress } from "../agent/transport.ts";
import { parseListenAddress } from "../ratelimit/identity/address-text.ts";
import { type AgentConfig, redactedConfig } from "../config/schema.ts";
import type { MemoryUsage } from "../observe/lag.ts";
import type { Logger } from "../observe/log.ts";
import { Registry } from "../observe/metrics.ts";
import { loadAdapter } from "../runtime/detect.ts";
import { systemTimers } from "../runtime/host-time.ts";
import type { Listener, RuntimeName } from "../runtime/types.ts";
import { withAdminRoutes } from "./admin-http.ts";
import { ConfigWatcher } from "./config-watcher.ts";
import { logContainerLimits } from "./host/container-limits.ts";
import type { HostProbes } from "./host/probes.ts";
import { exposureWarning, guardPeers } from "./peer-guard.ts";
import { createPolicyHandler } from "./policy-handler.ts";
import { reloadableConfig } from "./reloadable-config.ts";
import { buildStore } from "./stores.ts";
import { createTelemetry } from "./telemetry.ts";
import { startTopLists } from "./top-lists.ts";

/** What the app needs of the process it runs in. */
export interface AppHost {
  readonly runtime: RuntimeName;
  readonly pid: number;
  env(): Readonly<Record<string, string | undefined>>;
  memoryUsage(): MemoryUsage;
  /** The configuration as it reads now: a reload reads it again (flags, env, file). */
  readConfig(): AgentConfig;
  readonly probes: HostProbes;
}

/** Which listener could not bind. */
export type ListenRole = "SPOP" | "metrics";

/** How this process takes part, and how the CLI wants bind failures reported. */
export interface AppOptions {
  readonly logger: Logger;
  readonly version: string;
  /** A worker of several: the ports are shared (SO_REUSEPORT). */
  readonly reusePort: boolean;
  /** Processes sharing the container's limits (the worker count, 1 without workers). */
  readonly processes: number;
  /** Turns a bind error into what the caller reports (default: rethrow it). */
  readonly listenFailed?: (role: ListenRole) => (error: unknown) => never;
}

/** A serving agent. */
export interface AgentApp {
  /** Where HAProxy connects, as the listener reports it. */
  readonly spopAddress: string;
  /** Where /metrics (and /healthz, /readyz, /admin) answer; undefined when metrics are off. */
  readonly metricsAddress: string | undefined;
  /** Reads the configuration again and applies what may change while running. A bad file keeps the running config. */
  reload(trigger: string): void;
  /** Stops accepting, lets in-flight NOTIFYs finish within the grace period, ends the connections. */
  drain(reason: string): Promise<void>;
  /** Closes the store, the watchers and the metrics listener (after drain). */
  close(reason: string): Promise<void>;
}

const rethrow = () => (error: unknown): never => {
  throw error;
};

function toRuntimeAddress(address: ListenAddress, options: { reusePort?: boolean; mode?: number }): ListenAddress {
  return address.kind === "unix" ? { ...address, mode: options.mode } : { ...address, reusePort: options.reusePort };
}

/**
 * Builds the agent `config` describes and starts serving it.
 *
 * @param config The validated configuration.
 * @param host The process and its probes.
 * @param options Logger, version, worker role and how bind failures are reported.
 * @returns The running agent: reload, drain and close it.
 */
export async function startAgentApp(config: AgentConfig, host: AppHost, options: AppOptions): Promise<AgentApp> {
  const { logger, reusePort } = options;
  const listenFailed = options.listenFailed ?? rethrow;
  let running = config;

  const registry = new Registry();
  const telemetry = createTelemetry({ registry, logger, pid: host.pid, memoryUsage: host.memoryUsage, version: options.version, runtime: host.runtime });
  const limits = host.probes.containerLimits(config, { runtime: host.runtime, env: host.env(), processes: options.processes, rss: () => host.memoryUsage().rss });
  logContainerLimits(limits, logger, { workers: options.processes });

  const built = await buildStore(config, { logger, onEvent: telemetry.onStoreEvent, memoryMaxKeys: limits.sizing.maxKeys });
  telemetry.observeContainer(limits, built.memory);
  telemetry.observeStore(built);
  // Who is being limited: every decision feeds the top lists (GET /admin/top, spoa-gcra top).
  const top = await startTopLists(config, built.store, { logger });
  telemetry.observeTopLists(top);
  const policyHandler = createPolicyHandler(config, {
    store: top.store,
    telemetry,
    phases: built.phases,
    onResponseIssue: (issue) => telemetry.responseRefused(issue),
  });

  const agent = new Agent({
    handler: policyHandler.handler,
    timers: systemTimers,
    maxFrameSize: config.haproxy.maxFrameSize,
    helloTimeoutMs: config.haproxy.helloTimeoutMs,
    maxInFlight: config.haproxy.maxInFlight,
    events: telemetry.agentEvents,
  });
  telemetry.observeAgent(agent);
  const readiness = telemetry.observeReadiness(built.canDecide);

  const adapter = await loadAdapter();
  // Validated by the config loader; a failure here would be a loader bug.
  const spopAddress = parseListenAddress(config.listen)!;
  const fdWatch = host.probes.watchFds({ metrics: telemetry.fds, logger });
  const listener = await adapter.listenSpop(
    toRuntimeAddress(spopAddress, { reusePort, mode: config.socketMode }),
    guardPeers((transport) => agent.accept(transport), config.allowedPeers, telemetry.peerRefused),
    { onAcceptError: fdWatch.acceptFailed },
  ).catch(listenFailed("SPOP"));
  const exposure = exposureWarning(spopAddress, config.allowedPeers);
  if (exposure !== undefined) logger.warn("SPOP port reachable beyond loopback", { spop: listener.address, allowedPeers: config.allowedPeers, advice: exposure });
  readiness.setListening(true);

  let metricsListener: Listener | undefined;
  if (config.metrics !== "off") {
    const metricsAddress = parseListenAddress(config.metrics)!;
    const httpHandler = withAdminRoutes(readiness.httpHandler, {
      config: () => running,
      stores: built.admin,
      onError: (error) => logger.throttled("admin-store", "warn", "admin request failed in the store", { error: String(error) }),
      // An audit trail: who was let through, and whether the other agents heard of it.
      onReset: (report) => logger.info("admin reset", { keys: report.keys.map((k) => k.key), announced: report.announced }),
      top: (n) => top.merged(n),
    });
    metricsListener = await adapter.serveHttp(toRuntimeAddress(metricsAddress, { reusePort }), httpHandler).catch(listenFailed("metrics"));
  }
  if (config.admin.enabled && metricsListener === undefined) {
    logger.warn("admin endpoint enabled but metrics is off: nothing serves it", {});
  } else if (config.admin.enabled && reusePort) {
    logger.warn("admin endpoint with several workers: each request reaches one worker and inspect shows only its deny cache and memory (a Valkey reset still reaches every worker)", {});
  }
  if (config.store.kind === "memory" && reusePort) {
    logger.warn("in-memory store with several workers: every limit is enforced per worker process", {});
  }
  logger.info("listening", {
    version: options.version,
    runtime: host.runtime,
    spop: listener.address,
    metrics: metricsListener?.address ?? "off",
    admin: config.admin.enabled && metricsListener !== undefined ? "on" : "off",
    store: config.store.kind,
    limits: config.limits.map((l) => `${l.name}: ${l.count}/${l.periodSeconds}s burst ${l.burst}${l.shadow ? " (shadow)" : ""}`),
    config: logger.enabled("debug") ? redactedConfig(config) : undefined,
  });

  // Hot reload: SIGHUP (the CLI), a change of the policy file or of a Valkey secret file.
  const reload = (trigger: string): void => {
    let next: AgentConfig;
    try {
      next = host.readConfig();
    } catch (error) {
      logger.error("config reload failed; keeping the running config", { trigger, error: error instanceof Error ? error.message : String(error) });
      return;
    }
    const { config: effective, refused } = reloadableConfig(running, next);
    for (const field of refused) logger.warn("config change needs a restart; keeping the running value", { trigger, field });
    policyHandler.apply(effective);
    built.clearCaches();
    // A new Valkey address or secret: connect there and switch (the running connections serve until then).
    void built.reconfigure(effective);
    running = effective;
    logger.info("config reloaded", { trigger, limits: next.limits.map((l) => l.name) });
  };
  const watchers = [
    ...(config.source.file === undefined ? [] : [new ConfigWatcher({
      file: config.source.file,
      onChange: () => reload("file"),
      onError: (error) => logger.throttled("config-watch", "warn", "cannot watch the config file", { error: String(error) }),
    })]),
    // Rotated Valkey secrets (a re-mounted Secret: password, client certificate, CA) reload too.
    ...(config.store.valkey?.secretFiles ?? []).map((file) => new ConfigWatcher({
      file,
      onChange: () => reload("secret file"),
      onError: (error) => logger.throttled("secret-watch", "warn", "cannot watch a Valkey secret file", { file, error: String(error) }),
    })),
  ];
  for (const watcher of watchers) watcher.start();

  return {
    spopAddress: listener.address,
    metricsAddress: metricsListener?.address,
    reload,
    async drain(reason: string): Promise<void> {
      readiness.setDraining(true);
      logger.info("draining", { signal: reason, connections: agent.connectionCount, inFlight: agent.inFlight, graceMs: running.shutdownGraceMs });
      await listener.close();
      readiness.setListening(false);
      await agent.drain({ graceMs: running.shutdownGraceMs });
    },
    async close(reason: string): Promise<void> {
      for (const watcher of watchers) watcher.close();
      await top.close();
      await built.close().catch((error: unknown) => logger.warn("store close failed", { error: String(error) }));
      await metricsListener?.close();
      logger.info("stopped", { signal: reason });
      fdWatch.stop();
      telemetry.close();
    },
  };
}
