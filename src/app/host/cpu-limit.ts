/**
 * How many worker processes `--workers auto` starts: the container's CPU limit (cgroup v2
 * `cpu.max`, cgroup v1 quota/period as fallback), else the available cores — the way Go's
 * runtime sizes GOMAXPROCS in a container.
 * @module
 */
import { availableParallelism } from "node:os";
import { cgroupDirs, type ReadText, readText } from "./cgroup.ts";

/** Parses cgroup v2 `cpu.max` ("max 100000" or "150000 100000") into a CPU count, or undefined. */
export function parseCpuMax(text: string): number | undefined {
  const [quota, period] = text.trim().split(/\s+/);
  if (quota === undefined || quota === "max") return undefined;
  const q = Number(quota);
  const p = Number(period ?? 100_000);
  if (!(q > 0) || !(p > 0)) return undefined;
  return q / p;
}

/**
 * The CPU limit of this container in cores, or undefined when there is none: the tightest
 * quota of the process's own cgroup and its ancestors (cgroup.ts finds them).
 */
export function containerCpuLimit(read: ReadText = readText): number | undefined {
  const found = cgroupDirs("cpu", read);
  if (found === undefined) return undefined;
  let limit: number | undefined;
  for (const dir of found.dirs) {
    let cores: number | undefined;
    if (found.version === 2) {
      const text = read(`${dir}/cpu.max`);
      cores = text === undefined ? undefined : parseCpuMax(text);
    } else {
      const quota = Number(read(`${dir}/cpu.cfs_quota_us`)?.trim());
      const period = Number(read(`${dir}/cpu.cfs_period_us`)?.trim());
      cores = quota > 0 && period > 0 ? quota / period : undefined;
    }
    if (cores !== undefined && (limit === undefined || cores < limit)) limit = cores;
  }
  return limit;
}

/** Workers for "auto": the CPU limit rounded up (at least 1), else the available cores. */
export function autoWorkerCount(options: { read?: ReadText; cores?: number } = {}): number {
  const limit = containerCpuLimit(options.read ?? readText);
  const cores = options.cores ?? availableParallelism();
  if (limit === undefined) return Math.max(1, cores);
  return Math.max(1, Math.min(cores, Math.ceil(limit)));
}
