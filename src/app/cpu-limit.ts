/**
 * How many worker processes `--workers auto` starts: the container's CPU limit (cgroup v2
 * `cpu.max`, cgroup v1 quota/period as fallback), else the available cores — the way Go's
 * runtime sizes GOMAXPROCS in a container.
 * @module
 */
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";

/** Reads a file or returns undefined (a missing cgroup file just means "no limit here"). */
type ReadText = (path: string) => string | undefined;

const readText: ReadText = (path) => {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
};

/** Parses cgroup v2 `cpu.max` ("max 100000" or "150000 100000") into a CPU count, or undefined. */
export function parseCpuMax(text: string): number | undefined {
  const [quota, period] = text.trim().split(/\s+/);
  if (quota === undefined || quota === "max") return undefined;
  const q = Number(quota);
  const p = Number(period ?? 100_000);
  if (!(q > 0) || !(p > 0)) return undefined;
  return q / p;
}

/** The CPU limit of this container in cores, or undefined when there is none. */
export function containerCpuLimit(read: ReadText = readText): number | undefined {
  const v2 = read("/sys/fs/cgroup/cpu.max");
  if (v2 !== undefined) return parseCpuMax(v2);
  const quota = Number(read("/sys/fs/cgroup/cpu/cpu.cfs_quota_us")?.trim());
  const period = Number(read("/sys/fs/cgroup/cpu/cpu.cfs_period_us")?.trim());
  if (quota > 0 && period > 0) return quota / period;
  return undefined;
}

/** Workers for "auto": the CPU limit rounded up (at least 1), else the available cores. */
export function autoWorkerCount(options: { read?: ReadText; cores?: number } = {}): number {
  const limit = containerCpuLimit(options.read ?? readText);
  const cores = options.cores ?? availableParallelism();
  if (limit === undefined) return Math.max(1, cores);
  return Math.max(1, Math.min(cores, Math.ceil(limit)));
}
