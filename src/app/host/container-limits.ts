/**
 * At start: read the container's CPU and memory limits, decide what follows from them (worker
 * count, the memory store's key bound), say so in one log line, and export the limits and the
 * store's fill as metrics — so an operator sees why the agent sized itself the way it did.
 * @module
 */
import type { AgentConfig } from "../../config/schema.ts";
import type { Logger } from "../../observe/log.ts";
import type { ReadText } from "./cgroup.ts";
import { containerCpuLimit } from "./cpu-limit.ts";
import { containerMemoryLimit, type MemoryLimit, type MemorySizing, mib, sizeMemoryStore } from "./memory-limit.ts";

/** What was detected and derived. */
export interface ContainerLimits {
  readonly cpuLimit: number | undefined;
  readonly memoryLimit: MemoryLimit | undefined;
  readonly sizing: MemorySizing;
  /** How the runtime's own heap is bounded (launch-time knobs only). */
  readonly heap: string;
}

/** Environment variable through which JavaScriptCore (Bun) takes the RAM size its GC sizes from. */
export const BUN_RAM_SIZE_ENV = "BUN_JSC_forceRAMSize";

/**
 * Neither runtime lets a running program bound its own heap: Bun reads BUN_JSC_forceRAMSize and
 * Deno reads --v8-flags=--max-old-space-size when they start. Report what this process got.
 */
export function heapBound(runtime: string, env: Readonly<Record<string, string | undefined>>, limit: MemoryLimit | undefined): string {
  if (runtime === "bun") {
    const set = env[BUN_RAM_SIZE_ENV];
    if (set !== undefined) return `${BUN_RAM_SIZE_ENV}=${set}`;
    return limit === undefined ? "runtime default" : `runtime default (set ${BUN_RAM_SIZE_ENV}=${limit.bytes} at launch to size the GC to the limit)`;
  }
  if (runtime === "deno") {
    return limit === undefined
      ? "runtime default"
      : `runtime default unless launched with --v8-flags=--max-old-space-size=${Math.floor((limit.bytes * 0.5) / 1_048_576)}`;
  }
  return "runtime default";
}

/**
 * What the lead adds to each worker's environment: under Bun, unless the operator set it, each
 * worker's GC is sized to its share of the target (the workers share one cgroup limit). A
 * worker is a fresh process, so unlike the lead it can still take the launch-time setting.
 */
export function workerHeapEnv(
  runtime: string,
  env: Readonly<Record<string, string | undefined>>,
  limit: MemoryLimit | undefined,
  options: { readonly percent: number; readonly workers: number },
): Record<string, string> {
  if (runtime !== "bun" || limit === undefined || options.percent === 0 || env[BUN_RAM_SIZE_ENV] !== undefined) return {};
  const share = Math.floor((limit.bytes * options.percent) / 100 / Math.max(1, options.workers));
  return { [BUN_RAM_SIZE_ENV]: String(share) };
}

/** Detects the limits and sizes the memory store; `processes` is the worker count sharing the cgroup. */
export function detectContainerLimits(
  config: AgentConfig,
  deps: {
    readonly runtime: string;
    readonly env: Readonly<Record<string, string | undefined>>;
    readonly processes: number;
    /** This process's RSS, the baseline when the cgroup's charge cannot be read. */
    readonly rss: () => number;
    readonly read?: ReadText;
  },
): ContainerLimits {
  const memoryLimit = containerMemoryLimit(deps.read);
  const sizing = sizeMemoryStore({
    limit: memoryLimit,
    percent: config.memoryLimitPercent,
    configuredMaxKeys: config.store.memory.maxKeys,
    explicit: config.store.memory.maxKeysSet,
    // The cgroup's charge holds every process in it: with workers, the lead and siblings too.
    baselineBytes: memoryLimit?.inUseBytes !== undefined && deps.processes <= 1 ? memoryLimit.inUseBytes : deps.rss(),
    processes: deps.processes,
  });
  return {
    cpuLimit: containerCpuLimit(deps.read),
    memoryLimit,
    sizing,
    heap: heapBound(deps.runtime, deps.env, memoryLimit),
  };
}

/** The start log line (and a warning when the limit is too tight for the configured store). */
export function logContainerLimits(limits: ContainerLimits, logger: Logger, extra: Record<string, unknown> = {}): void {
  const { memoryLimit, sizing } = limits;
  logger.info("container limits", {
    cpuLimit: limits.cpuLimit ?? "none",
    memoryLimit: memoryLimit === undefined ? "none" : mib(memoryLimit.bytes),
    memoryLimitSource: memoryLimit?.source,
    memoryInUseAtStart: memoryLimit?.inUseBytes === undefined ? undefined : mib(memoryLimit.inUseBytes),
    memoryTarget: sizing.targetBytes === undefined ? undefined : mib(sizing.targetBytes),
    keyTableBudget: sizing.tableBudgetBytes === undefined ? undefined : mib(sizing.tableBudgetBytes),
    memoryStoreMaxKeys: sizing.maxKeys,
    maxKeysFrom: sizing.reason,
    heap: limits.heap,
    ...extra,
  });
  if (sizing.warning !== undefined) logger.warn("memory limit is tight", { detail: sizing.warning });
}
