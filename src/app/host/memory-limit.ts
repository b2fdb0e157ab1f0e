/**
 * Sizes the in-memory store to the container's memory limit, the way automemlimit sizes Go's
 * GOMEMLIMIT: a share of the cgroup limit (default 90 %) is the target; what the process
 * already uses at start is taken off, a reserve for load is kept, and the key table gets what
 * is left. The limit only ever lowers the default bound on keys (a larger table would cost
 * its index whether or not keys arrive); an explicit `store.memory.maxKeys` is kept as set.
 *
 * What the kernel charges to a cgroup is anonymous memory plus page cache. The executable's
 * own file pages count only when this cgroup read them first (a fresh container does; a
 * process started beside a warm page cache does not) and the kernel can reclaim them, but
 * the mapped part is code the agent runs: it is counted in the baseline when it is charged.
 * @module
 */
import { tatTableBytes } from "../../ratelimit/memory/tat-table.ts";
import { cgroupDirs, parseStat, type ReadText, readText } from "./cgroup.ts";

/** Limits at or above this are "no limit" (v1 reports 2^63 rounded down to a page). */
const UNLIMITED = 2 ** 60;
/** Room kept for heap growth, socket buffers and connection state under load (6–9 MiB measured under a key flood). */
export const LOAD_RESERVE_BYTES = 12 * 1024 * 1024;
/** The table never goes below this, however small the limit: a floor that still limits. */
export const MIN_KEYS = 1_000;

/** The memory limit of this process's cgroup. */
export interface MemoryLimit {
  readonly bytes: number;
  /** The file it came from, for the start log. */
  readonly source: string;
  readonly version: 1 | 2;
  /** Anonymous memory plus mapped file pages charged to the cgroup now, when readable. */
  readonly inUseBytes?: number;
}

function parseLimit(text: string | undefined): number | undefined {
  const value = text?.trim();
  if (value === undefined || value === "" || value === "max") return undefined;
  const bytes = Number(value);
  return Number.isFinite(bytes) && bytes > 0 && bytes < UNLIMITED ? bytes : undefined;
}

/** The tightest memory limit on this process (own cgroup or an ancestor), or undefined. */
export function containerMemoryLimit(read: ReadText = readText): MemoryLimit | undefined {
  const found = cgroupDirs("memory", read);
  if (found === undefined) return undefined;
  const file = found.version === 2 ? "memory.max" : "memory.limit_in_bytes";
  let best: { bytes: number; dir: string } | undefined;
  for (const dir of found.dirs) {
    const bytes = parseLimit(read(`${dir}/${file}`));
    if (bytes !== undefined && (best === undefined || bytes < best.bytes)) best = { bytes, dir };
  }
  if (best === undefined) return undefined;
  const stat = read(`${found.dirs[0]}/memory.stat`);
  const stats = stat === undefined ? undefined : parseStat(stat);
  // v1 names: rss + mapped_file; v2: anon + file_mapped. Page cache nobody maps is reclaimable.
  const anon = stats?.get(found.version === 2 ? "anon" : "rss");
  const mapped = stats?.get(found.version === 2 ? "file_mapped" : "mapped_file");
  return {
    bytes: best.bytes,
    source: `${best.dir}/${file}`,
    version: found.version,
    ...(anon === undefined ? {} : { inUseBytes: anon + (mapped ?? 0) }),
  };
}

/** The largest key count whose table fits in `bytes` (0 when none does). */
export function keysThatFit(bytes: number): number {
  if (bytes < tatTableBytes(1)) return 0;
  // tatTableBytes grows monotonically: binary search over [1, bytes / 16].
  let low = 1;
  let high = Math.floor(bytes / 16);
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (tatTableBytes(mid) <= bytes) low = mid;
    else high = mid - 1;
  }
  return low;
}

/** What the sizing decided, for the store, the start log and the metrics. */
export interface MemorySizing {
  readonly maxKeys: number;
  /** Why maxKeys has its value. */
  readonly reason: "no-limit" | "disabled" | "configured" | "default-fits" | "limit";
  /** The target: limit × percent / 100 (undefined without a limit). */
  readonly targetBytes?: number;
  /** Memory left for the key table after the baseline and reserve, per process. */
  readonly tableBudgetBytes?: number;
  /** Set when an explicit maxKeys needs more than the target leaves for it. */
  readonly warning?: string;
}

/** Inputs of sizeMemoryStore. */
export interface SizingInput {
  readonly limit: MemoryLimit | undefined;
  /** `memoryLimitPercent`; 0 turns the sizing off. */
  readonly percent: number;
  readonly configuredMaxKeys: number;
  /** True when store.memory.maxKeys was set by the user (file, env or flag). */
  readonly explicit: boolean;
  /** Bytes in use at start: the cgroup's charge when known, else this process's RSS. */
  readonly baselineBytes: number;
  /** Agent processes sharing the cgroup (--workers). */
  readonly processes: number;
}

/** Decides the memory store's bound on keys from the memory limit; see the module comment. */
export function sizeMemoryStore(input: SizingInput): MemorySizing {
  const { limit, configuredMaxKeys } = input;
  if (limit === undefined) return { maxKeys: configuredMaxKeys, reason: "no-limit" };
  if (input.percent === 0) return { maxKeys: configuredMaxKeys, reason: "disabled" };
  const targetBytes = Math.floor((limit.bytes * input.percent) / 100);
  const processes = Math.max(1, input.processes);
  // Each worker has its own baseline and table; the first process's baseline stands for all.
  const free = targetBytes - processes * (input.baselineBytes + LOAD_RESERVE_BYTES);
  const tableBudgetBytes = Math.max(0, Math.floor(free / processes));
  const fits = keysThatFit(tableBudgetBytes);
  if (input.explicit) {
    const warning = configuredMaxKeys > fits
      ? `store.memory.maxKeys ${configuredMaxKeys} needs ${mib(tatTableBytes(configuredMaxKeys))} for its table, more than the ${mib(tableBudgetBytes)} the memory limit leaves: the agent may be OOM-killed under a key flood`
      : undefined;
    return { maxKeys: configuredMaxKeys, reason: "configured", targetBytes, tableBudgetBytes, ...(warning === undefined ? {} : { warning }) };
  }
  if (fits >= configuredMaxKeys) return { maxKeys: configuredMaxKeys, reason: "default-fits", targetBytes, tableBudgetBytes };
  const maxKeys = Math.max(MIN_KEYS, fits);
  const warning = fits < MIN_KEYS
    ? `the memory limit leaves ${mib(tableBudgetBytes)} for the key table; keeping the minimum of ${MIN_KEYS} keys`
    : undefined;
  return { maxKeys, reason: "limit", targetBytes, tableBudgetBytes, ...(warning === undefined ? {} : { warning }) };
}

/** Bytes as MiB with one decimal, for log lines. */
export function mib(bytes: number): string {
  return `${(bytes / 1_048_576).toFixed(1)} MiB`;
}
