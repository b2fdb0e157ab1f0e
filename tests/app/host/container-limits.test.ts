import { describe, expect, test } from "bun:test";
import { BUN_RAM_SIZE_ENV, detectContainerLimits, heapBound, workerHeapEnv } from "../../../src/app/host/container-limits.ts";
import { createTelemetry } from "../../../src/app/telemetry.ts";
import { createLogger } from "../../../src/observe/log.ts";
import { loadConfig } from "../../../src/config/load.ts";
import { Registry } from "../../../src/observe/metrics.ts";
import { MemoryStore } from "../../../src/ratelimit/memory/store.ts";

const MiB = 1_048_576;
const limit = { bytes: 256 * MiB, source: "test", version: 2 as const };
const v2 = (max: string, stat = "anon 6000000\nfile_mapped 0\n") => (path: string) => ({
  "/proc/self/cgroup": "0::/\n",
  "/sys/fs/cgroup/cgroup.controllers": "cpu memory\n",
  "/sys/fs/cgroup/memory.max": max,
  "/sys/fs/cgroup/memory.stat": stat,
  "/sys/fs/cgroup/cpu.max": "200000 100000\n",
} as Record<string, string>)[path];
const config = (flags: Record<string, string> = {}, file?: string) =>
  loadConfig({ args: { flags: file === undefined ? flags : { ...flags, config: "/c.yaml" } }, env: {}, readFile: () => file ?? "" });

describe("container-limits", () => {
  test("heapBound() names the launch-time knob of each runtime, or what was set", () => {
    expect(heapBound("bun", {}, limit)).toContain(`${BUN_RAM_SIZE_ENV}=${256 * MiB}`);
    expect(heapBound("bun", { [BUN_RAM_SIZE_ENV]: "1000" }, limit)).toBe(`${BUN_RAM_SIZE_ENV}=1000`);
    expect(heapBound("deno", {}, limit)).toContain("--v8-flags=--max-old-space-size=");
    expect(heapBound("bun", {}, undefined)).toBe("runtime default");
  });

  test("workerHeapEnv() gives each Bun worker its share of the target, and leaves an operator's setting alone", () => {
    expect(workerHeapEnv("bun", {}, limit, { percent: 90, workers: 2 })).toEqual({ [BUN_RAM_SIZE_ENV]: String(Math.floor((256 * MiB * 0.9) / 2)) });
    expect(workerHeapEnv("bun", { [BUN_RAM_SIZE_ENV]: "5" }, limit, { percent: 90, workers: 2 })).toEqual({});
    expect(workerHeapEnv("deno", {}, limit, { percent: 90, workers: 2 })).toEqual({});
    expect(workerHeapEnv("bun", {}, undefined, { percent: 90, workers: 2 })).toEqual({});
    expect(workerHeapEnv("bun", {}, limit, { percent: 0, workers: 2 })).toEqual({});
  });

  test("detectContainerLimits() reads both limits and sizes the table from the cgroup's charge", () => {
    const limits = detectContainerLimits(config(), { runtime: "bun", env: {}, processes: 1, rss: () => 99 * MiB, read: v2("41943040\n") });
    expect(limits.cpuLimit).toBe(2);
    expect(limits.memoryLimit?.inUseBytes).toBe(6_000_000);
    expect(limits.sizing.reason).toBe("limit");
    expect(limits.sizing.tableBudgetBytes).toBe(Math.floor(40 * MiB * 0.9) - 6_000_000 - 12 * MiB);
  });

  test("an explicit store.memory.maxKeys is kept; --memory-limit-percent 0 ignores the limit", () => {
    const read = v2("41943040\n");
    const explicit = detectContainerLimits(config({}, "store:\n  memory:\n    maxKeys: 5000\n"), { runtime: "bun", env: {}, processes: 1, rss: () => 0, read });
    expect(explicit.sizing).toMatchObject({ maxKeys: 5000, reason: "configured" });
    const off = detectContainerLimits(config({ "memory-limit-percent": "0" }), { runtime: "bun", env: {}, processes: 1, rss: () => 0, read });
    expect(off.sizing).toEqual({ maxKeys: 1_000_000, reason: "disabled" });
  });

  test("telemetry.observeContainer() exports the limits, the bound, live keys and evictions", () => {
    const registry = new Registry();
    const logger = createLogger({ level: "off", sink: () => {}, clock: { nowUs: () => 0 } });
    const telemetry = createTelemetry({ registry, logger, pid: 1, memoryUsage: () => ({ rss: 0, heapUsed: 0 }), version: "test", lagTimers: false });
    const limits = detectContainerLimits(config(), { runtime: "bun", env: {}, processes: 1, rss: () => 0, read: v2("max\n") });
    let now = 1_000_000;
    const store = new MemoryStore({ clock: { nowUs: () => now }, maxKeys: 2, seed: 1 });
    telemetry.observeContainer(limits, store);
    const params = { emissionIntervalUs: 3_600_000_000, burstToleranceUs: 0 };
    for (const key of ["a", "b", "c"]) store.check([{ key, params, cost: 1, shadow: false }]);
    now += 1;
    const text = registry.render();
    expect(text).toContain("spoa_memory_limit_bytes 0");
    expect(text).toContain("spoa_cpu_limit_cores 2");
    expect(text).toContain("spoa_memory_store_max_keys 1000000");
    expect(text).toContain("spoa_memory_store_keys 2");
    expect(text).toContain("spoa_memory_store_evictions_total 1");
  });
});
