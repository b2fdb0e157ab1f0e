/**
 * What the composition root measures of the machine, behind one small interface: the cgroup
 * limits that size the memory store and the workers, and the open-descriptor watch. The app is built with
 * `systemProbes`; tests pass fakes and never read /proc or /sys.
 * @module
 */
import type { AgentConfig } from "../../config/schema.ts";
import type { Logger } from "../../observe/log.ts";
import { type ContainerLimits, detectContainerLimits } from "./container-limits.ts";
import { autoWorkerCount } from "./cpu-limit.ts";
import { type FdMetrics, type FdWatch, startFdWatch } from "./fd-watch.ts";
import { containerMemoryLimit, type MemoryLimit } from "./memory-limit.ts";

/** The process facts the limits are read against. */
export interface ProbeContext {
  readonly runtime: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Processes sharing the cgroup (the worker count). */
  readonly processes: number;
  /** This process's RSS, the baseline when the cgroup's charge cannot be read. */
  readonly rss: () => number;
}

/** The host probes the app uses. */
export interface HostProbes {
  /** CPU and memory limits of the container, and the memory store's size within them. */
  containerLimits(config: AgentConfig, context: ProbeContext): ContainerLimits;
  /** Starts watching open file descriptors against RLIMIT_NOFILE, reporting to `metrics`. */
  watchFds(deps: { readonly metrics: FdMetrics; readonly logger: Logger }): FdWatch;
  /** Workers for `--workers 0`: the CPUs the container may use. */
  autoWorkers(): number;
  /** The container's memory limit, if it has one. */
  memoryLimit(): MemoryLimit | undefined;
}

/** The probes of the real machine: cgroup files under /sys/fs/cgroup, /proc/self/fd. */
export const systemProbes: HostProbes = {
  containerLimits: (config, context) => detectContainerLimits(config, context),
  watchFds: (deps) => startFdWatch(deps),
  autoWorkers: () => autoWorkerCount(),
  memoryLimit: () => containerMemoryLimit(),
};
