/**
 * `spoa-gcra serve`: config → store → policies → handler → engine → listeners, then signals:
 * SIGHUP (and file changes) reload the policies, SIGTERM/SIGINT drain and exit.
 * @module
 */
import { readFileSync } from "node:fs";
import { Agent } from "../agent/agent.ts";
import { ConfigError } from "../config/errors.ts";
import { loadConfig } from "../config/load.ts";
import { configWarnings } from "../config/warnings.ts";
import { parseListenAddress } from "../config/net.ts";
import { type AgentConfig, redactedConfig } from "../config/schema.ts";
import { createLogger, type Logger } from "../observe/log.ts";
import { Registry } from "../observe/metrics.ts";
import { loadAdapter } from "../runtime/detect.ts";
import type { HostProcess } from "../runtime/process.ts";
import type { ListenAddress } from "../agent/transport.ts";
import type { Listener } from "../runtime/types.ts";
import type { ParsedArgs } from "./args.ts";
import { checkConfigCommand, configErrorText } from "./check-config.ts";
import { asListenFailure, ListenFailure } from "./listen-failure.ts";
import { autoWorkerCount } from "../app/host/cpu-limit.ts";
import { createPolicyHandler } from "../app/policy-handler.ts";
import { reloadableConfig } from "../app/reloadable-config.ts";
import { ConfigWatcher } from "../app/config-watcher.ts";
import { buildStore } from "../app/stores.ts";
import { detectContainerLimits, logContainerLimits, registerLimitMetrics, workerHeapEnv } from "../app/host/container-limits.ts";
import { containerMemoryLimit } from "../app/host/memory-limit.ts";
import { exposureWarning, guardPeers } from "../app/peer-guard.ts";
import { startFdWatch } from "../app/host/fd-watch.ts";
import { withAdminRoutes } from "../app/admin-http.ts";
import { registerTopMetrics, startTopLists } from "../app/top-lists.ts";
import { systemTimers } from "../runtime/host-time.ts";
import { createTelemetry } from "../app/telemetry.ts";
import { VERSION } from "./version.ts";
import { runWorkers, WORKER_ENV } from "../app/workers.ts";

/** Exit code for bad usage or configuration (documented in --help). */
const EXIT_USAGE = 2;
/** Exit code when the agent cannot start (an address it cannot bind). */
const EXIT_FAILURE = 1;

function toRuntimeAddress(address: ListenAddress, options: { reusePort?: boolean; mode?: number }): ListenAddress {
  return address.kind === "unix" ? { ...address, mode: options.mode } : { ...address, reusePort: options.reusePort };
}

function readConfig(args: ParsedArgs, host: HostProcess): AgentConfig {
  return loadConfig({ args, env: host.env(), readFile: (path) => readFileSync(path, "utf8") });
}

/** Runs the agent until a signal ends it; resolves with the exit code. */
export async function serve(args: ParsedArgs, host: HostProcess): Promise<number> {
  let config: AgentConfig;
  try {
    config = readConfig(args, host);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    host.write("err", `spoa-gcra: ${configErrorText(error)}`);
    return EXIT_USAGE;
  }
  if (args.flags.validate === true) {
    // The same report as `check-config`, so both ways of validating read alike.
    return checkConfigCommand(args, {
      env: host.env(),
      readFile: (path) => readFileSync(path, "utf8"),
      stdout: (text) => host.write("out", text.endsWith("\n") ? text : text + "\n"),
      stderr: (text) => host.write("err", text.endsWith("\n") ? text : text + "\n"),
    });
  }

  const workerId = host.env()[WORKER_ENV];
  const logger = createLogger({
    level: config.logLevel,
    sink: (line) => host.write("out", line),
    now: Date.now,
    base: workerId === undefined ? { pid: host.pid } : { pid: host.pid, worker: Number(workerId) },
  });
  if (workerId === undefined) {
    for (const warning of configWarnings(config)) logger.warn("config warning", { field: warning.path, problem: warning.message, fix: warning.fix });
  }
  const workers = config.workers === 0 ? autoWorkerCount() : config.workers;
  if (workers > 1 && workerId === undefined) {
    const workerEnv = workerHeapEnv(host.runtime, host.env(), containerMemoryLimit(), { percent: config.memoryLimitPercent, workers });
    return await runWorkers(workers, { host, logger, config, workerEnv });
  }
  try {
    return await runAgent(config, { host, logger, reusePort: workerId !== undefined, args, processes: workers });
  } catch (error) {
    if (!(error instanceof ListenFailure)) throw error;
    // A taken port is an operator's problem, not a crash: one line, and the stack only when asked.
    const debug = config.logLevel === "debug" || config.logLevel === "trace";
    host.write("err", `spoa-gcra: ${error.summary()}\n${debug ? `${error.error.stack ?? ""}\n` : ""}`);
    return EXIT_FAILURE;
  }
}

async function runAgent(
  initial: AgentConfig,
  deps: { readonly host: HostProcess; readonly logger: Logger; readonly reusePort: boolean; readonly args: ParsedArgs; readonly processes: number },
): Promise<number> {
  const { host, logger } = deps;
  let config = initial;
  const registry = new Registry();
  let canDecide = (): { ok: boolean; reason?: string } => ({ ok: true });
  const telemetry = createTelemetry({
    registry,
    logger,
    pid: host.pid,
    memoryUsage: host.memoryUsage,
    version: VERSION,
    runtime: host.runtime,
    canDecide: () => canDecide(),
  });
  const limits = detectContainerLimits(config, { runtime: host.runtime, env: host.env(), processes: deps.processes, rss: () => host.memoryUsage().rss });
  logContainerLimits(limits, logger, { workers: deps.processes });
  const built = await buildStore(config, { logger, onEvent: telemetry.onStoreEvent, memoryMaxKeys: limits.sizing.maxKeys });
  registerLimitMetrics(registry, limits, built.memory);
  canDecide = built.canDecide;
  const valkeyReachable = built.valkeyReachable;
  if (valkeyReachable !== undefined) {
    registry.gauge({ name: "spoa_valkey_reachable", help: "1 while Valkey answers the background PING (every 2 s), 0 after two unanswered.", collect: () => (valkeyReachable() === false ? 0 : 1) });
  }
  const responseRefused = registry.counter({ name: "spoa_response_refused_total", help: "Response messages (limits that see the response) whose ticket or cost the agent refused, by reason.", labelNames: ["reason"] });
  // Who is being limited: every decision feeds the top lists (GET /admin/top, spoa-gcra top).
  const top = await startTopLists(config, built.store, { logger });
  registerTopMetrics(registry, top);
  const policyHandler = createPolicyHandler(config, {
    store: top.store,
    telemetry,
    phases: built.phases,
    onResponseIssue: (issue) => {
      responseRefused.labels(issue.kind).inc();
      logger.throttled(`response-${issue.kind}`, "warn", "response message refused: no key's state changed", { reason: issue.kind, ...("limit" in issue ? { limit: issue.limit } : {}) });
    },
  });

  const agent = new Agent({
    handler: policyHandler.handler,
    timers: systemTimers,
    maxFrameSize: config.haproxy.maxFrameSize,
    helloTimeoutMs: config.haproxy.helloTimeoutMs,
    maxInFlight: config.haproxy.maxInFlight,
    events: telemetry.agentEvents,
  });
  telemetry.setInFlight(() => agent.inFlight);

  const adapter = await loadAdapter();
  // Validated by the config loader; a failure here would be a loader bug.
  const spopAddress = parseListenAddress(config.listen)!;
  const fdWatch = startFdWatch({ registry, logger });
  const listener = await adapter.listenSpop(
    toRuntimeAddress(spopAddress, { reusePort: deps.reusePort, mode: config.socketMode }),
    guardPeers((transport) => agent.accept(transport), config.allowedPeers, { registry, logger }),
    { onAcceptError: fdWatch.acceptFailed },
  ).catch(asListenFailure("SPOP"));
  const exposure = exposureWarning(spopAddress, config.allowedPeers);
  if (exposure !== undefined) logger.warn("SPOP port reachable beyond loopback", { spop: listener.address, allowedPeers: config.allowedPeers, advice: exposure });
  telemetry.setListening(true);
  let metricsListener: Listener | undefined;
  if (config.metrics !== "off") {
    const metricsAddress = parseListenAddress(config.metrics)!;
    const httpHandler = withAdminRoutes(telemetry.httpHandler, {
      config: () => config,
      stores: built.admin,
      onError: (error) => logger.throttled("admin-store", "warn", "admin request failed in the store", { error: String(error) }),
      // An audit trail: who was let through, and whether the other agents heard of it.
      onReset: (report) => logger.info("admin reset", { keys: report.keys.map((k) => k.key), announced: report.announced }),
      top: (n) => top.merged(n),
    });
    metricsListener = await adapter.serveHttp(toRuntimeAddress(metricsAddress, { reusePort: deps.reusePort }), httpHandler)
      .catch(asListenFailure("metrics"));
  }
  if (config.admin.enabled && metricsListener === undefined) {
    logger.warn("admin endpoint enabled but metrics is off: nothing serves it", {});
  } else if (config.admin.enabled && deps.reusePort) {
    logger.warn("admin endpoint with several workers: each request reaches one worker and inspect shows only its deny cache and memory (a Valkey reset still reaches every worker)", {});
  }
  if (config.store.kind === "memory" && deps.reusePort) {
    logger.warn("in-memory store with several workers: every limit is enforced per worker process", {});
  }
  logger.info("listening", {
    version: VERSION,
    runtime: host.runtime,
    spop: listener.address,
    metrics: metricsListener?.address ?? "off",
    admin: config.admin.enabled && metricsListener !== undefined ? "on" : "off",
    store: config.store.kind,
    limits: config.limits.map((l) => `${l.name}: ${l.count}/${l.periodSeconds}s burst ${l.burst}${l.shadow ? " (shadow)" : ""}`),
    config: logger.enabled("debug") ? redactedConfig(config) : undefined,
  });

  // Hot reload: SIGHUP or a change of the policy file. A bad file keeps the running config.
  const reload = (trigger: string) => {
    let next: AgentConfig;
    try {
      next = readConfig(deps.args, host);
    } catch (error) {
      logger.error("config reload failed; keeping the running config", { trigger, error: error instanceof Error ? error.message : String(error) });
      return;
    }
    const { config: effective, refused } = reloadableConfig(config, next);
    for (const field of refused) {
      logger.warn("config change needs a restart; keeping the running value", { trigger, field });
    }
    policyHandler.apply(effective);
    built.clearCaches();
    // A new Valkey address or secret: connect there and switch (the running connections serve until then).
    void built.reconfigure(effective);
    config = effective;
    logger.info("config reloaded", { trigger, limits: next.limits.map((l) => l.name) });
  };
  host.onSignal("SIGHUP", () => reload("SIGHUP"));
  const watcher = config.source.file === undefined ? undefined : new ConfigWatcher({
      file: config.source.file,
      onChange: () => reload("file"),
      onError: (error) => logger.throttled("config-watch", "warn", "cannot watch the config file", { error: String(error) }),
    });
  watcher?.start();
  // Rotated Valkey secrets (a re-mounted Secret: password, client certificate, CA) reload too.
  const secretWatchers = (config.store.valkey?.secretFiles ?? []).map((file) => new ConfigWatcher({
    file,
    onChange: () => reload("secret file"),
    onError: (error) => logger.throttled("secret-watch", "warn", "cannot watch a Valkey secret file", { file, error: String(error) }),
  }));
  for (const w of secretWatchers) w.start();

  // Drain on the first SIGTERM/SIGINT; a second one exits at once.
  return await new Promise<number>((resolveExit) => {
    let draining = false;
    const shutdown = async (signal: string) => {
      if (draining) {
        logger.warn("second signal: exiting now", { signal });
        host.exit(1);
      }
      draining = true;
      telemetry.setDraining(true);
      logger.info("draining", { signal, connections: agent.connectionCount, inFlight: agent.inFlight, graceMs: config.shutdownGraceMs });
      await listener.close();
      telemetry.setListening(false);
      await agent.drain({ graceMs: config.shutdownGraceMs });
      watcher?.close();
      for (const w of secretWatchers) w.close();
      await top.close();
      await built.close().catch((error: unknown) => logger.warn("store close failed", { error: String(error) }));
      await metricsListener?.close();
      logger.info("stopped", { signal });
      fdWatch.stop();
      telemetry.close();
      resolveExit(0);
    };
    host.onSignal("SIGTERM", () => void shutdown("SIGTERM"));
    host.onSignal("SIGINT", () => void shutdown("SIGINT"));
  });
}
