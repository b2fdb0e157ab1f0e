/**
 * `--workers N`: the parent process starts N copies of this same program, each listening on
 * the same port with SO_REUSEPORT (the kernel spreads HAProxy's connections), forwards
 * signals to them, restarts a worker that dies unexpectedly, and exits when they all stopped.
 * @module
 */
import type { AgentConfig } from "../config/schema.ts";
import type { Logger } from "../observe/log.ts";
import type { ChildHandle, HostProcess } from "../runtime/process.ts";
import { workerHeapEnv } from "./host/container-limits.ts";
import type { HostProbes } from "./host/probes.ts";

/** Set in a worker's environment to its index; its presence makes a process a worker. */
export const WORKER_ENV = "SPOA_WORKER_ID";

/** A worker that dies within this time after its start is not restarted (it would crash-loop). */
const MIN_UPTIME_FOR_RESTART_MS = 5_000;

/** How many processes serve `config`: its `workers`, or for 0 one per CPU the container may use. */
export function workerCount(config: AgentConfig, probes: Pick<HostProbes, "autoWorkers">): number {
  return config.workers === 0 ? probes.autoWorkers() : config.workers;
}

/** Supervises `count` workers, each told its share of the container's memory (Bun's heap bound). */
export function superviseWorkers(
  count: number,
  config: AgentConfig,
  deps: { readonly host: HostProcess; readonly logger: Logger; readonly probes: Pick<HostProbes, "memoryLimit"> },
): Promise<number> {
  const workerEnv = workerHeapEnv(deps.host.runtime, deps.host.env(), deps.probes.memoryLimit(), { percent: config.memoryLimitPercent, workers: count });
  // A response message may reach another worker than its request: without a fleet secret, the
  // workers of one lead share a random ticket key, so they honour each other's tickets.
  const ticketEnv: Record<string, string> = config.haproxy.ticketSecret === undefined ? { SPOA_TICKET_SECRET: randomHex(32) } : {};
  return runWorkers(count, { host: deps.host, logger: deps.logger, config, workerEnv: { ...workerEnv, ...ticketEnv } });
}

/** Supervises `count` workers until SIGTERM/SIGINT; resolves with the exit code. */
export async function runWorkers(
  count: number,
  deps: {
    readonly host: HostProcess;
    readonly logger: Logger;
    readonly config: AgentConfig;
    /** Added to every worker's environment (e.g. its share of the memory limit for Bun's GC). */
    readonly workerEnv?: Readonly<Record<string, string>>;
  },
): Promise<number> {
  const { host, logger, config } = deps;
  if (config.listen.startsWith("unix:")) {
    logger.error("--workers needs a TCP listen address: several processes cannot share one unix socket file", { listen: config.listen });
    return 2;
  }
  if (config.store.kind === "memory") {
    logger.warn("in-memory store with several workers: every limit is enforced per worker process; use Valkey for exact limits", { workers: count });
  }
  let stopping = false;
  let failed = false;
  const workers: (ChildHandle | undefined)[] = [];

  const start = (index: number): Promise<void> => {
    const startedAt = Date.now();
    const child = host.spawnWorker(host.args(), { ...deps.workerEnv, [WORKER_ENV]: String(index) });
    workers[index] = child;
    logger.info("worker started", { worker: index, workerPid: child.pid });
    return child.exited.then((code) => {
      workers[index] = undefined;
      if (stopping) return;
      const uptime = Date.now() - startedAt;
      logger.error("worker exited", { worker: index, workerPid: child.pid, code, uptimeMs: uptime });
      if (uptime < MIN_UPTIME_FOR_RESTART_MS) {
        failed = true;
        stopAll("SIGTERM");
        return;
      }
      return start(index);
    });
  };
  const stopAll = (signal: "SIGTERM" | "SIGINT") => {
    stopping = true;
    for (const child of workers) child?.kill(signal);
  };
  host.onSignal("SIGTERM", () => stopAll("SIGTERM"));
  host.onSignal("SIGINT", () => stopAll("SIGINT"));
  // Each worker reloads its own config on SIGHUP; the parent only passes the signal on.
  host.onSignal("SIGHUP", () => {
    for (const child of workers) child?.kill("SIGHUP");
  });

  logger.info("starting workers", { workers: count, listen: config.listen });
  await Promise.all(Array.from({ length: count }, (_, index) => start(index)));
  logger.info("all workers stopped", { failed });
  return failed ? 1 : 0;
}

function randomHex(bytes: number): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, "0")).join("");
}
