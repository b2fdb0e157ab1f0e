import { describe, expect, test } from "bun:test";
import { cgroupDirs, cgroupPath } from "../../../src/app/host/cgroup.ts";
import { containerMemoryLimit, keysThatFit, LOAD_RESERVE_BYTES, MIN_KEYS, sizeMemoryStore } from "../../../src/app/host/memory-limit.ts";
import { tatTableBytes } from "../../../src/ratelimit/memory/tat-table.ts";

const MiB = 1_048_576;
const files = (map: Record<string, string>) => (path: string) => map[path];

const V1_SELF = "9:name=systemd:/\n4:memory:/pods/agent\n1:cpu,cpuacct:/pods/agent\n0::/\n";

describe("cgroupPath() and cgroupDirs()", () => {
  test("cgroupPath() finds a v1 controller in a comma list and the unified line", () => {
    expect(cgroupPath(V1_SELF, "memory")).toBe("/pods/agent");
    expect(cgroupPath(V1_SELF, "cpu")).toBe("/pods/agent");
    expect(cgroupPath(V1_SELF, undefined)).toBe("/");
    expect(cgroupPath("0::/system.slice/x.service\n", "memory")).toBeUndefined();
  });

  test("cgroupDirs() on a hybrid v1 host walks the memory hierarchy from the own cgroup to the root", () => {
    const read = files({
      "/proc/self/cgroup": V1_SELF,
      "/sys/fs/cgroup/memory/cgroup.procs": "1\n",
      "/sys/fs/cgroup/memory/pods/agent/memory.limit_in_bytes": "1\n",
      "/sys/fs/cgroup/memory/pods/memory.limit_in_bytes": "1\n",
      "/sys/fs/cgroup/memory/memory.limit_in_bytes": "1\n",
    });
    expect(cgroupDirs("memory", read)).toEqual({
      version: 1,
      dirs: ["/sys/fs/cgroup/memory/pods/agent", "/sys/fs/cgroup/memory/pods", "/sys/fs/cgroup/memory"],
    });
  });

  test("cgroupDirs() inside a cgroup namespace (path not visible) falls back to the mount root", () => {
    const read = files({ "/proc/self/cgroup": "0::/kubepods/pod1/ctr\n", "/sys/fs/cgroup/cgroup.controllers": "cpuset cpu io memory pids\n" });
    expect(cgroupDirs("memory", read)).toEqual({ version: 2, dirs: ["/sys/fs/cgroup"] });
  });
});

describe("containerMemoryLimit()", () => {
  test("reads cgroup v2 memory.max and the anon + file_mapped charge", () => {
    const read = files({
      "/proc/self/cgroup": "0::/\n",
      "/sys/fs/cgroup/cgroup.controllers": "cpu memory\n",
      "/sys/fs/cgroup/memory.max": "134217728\n",
      "/sys/fs/cgroup/memory.stat": "anon 6000000\nfile 90000000\nfile_mapped 30000000\n",
    });
    expect(containerMemoryLimit(read)).toEqual({ bytes: 128 * MiB, source: "/sys/fs/cgroup/memory.max", version: 2, inUseBytes: 36_000_000 });
  });

  test("v2 `max` and v1's 2^63 rounded to a page are no limit", () => {
    expect(containerMemoryLimit(files({ "/proc/self/cgroup": "0::/\n", "/sys/fs/cgroup/cgroup.controllers": "memory", "/sys/fs/cgroup/memory.max": "max\n" }))).toBeUndefined();
    expect(containerMemoryLimit(files({
      "/proc/self/cgroup": "4:memory:/\n",
      "/sys/fs/cgroup/memory/cgroup.procs": "",
      "/sys/fs/cgroup/memory/memory.limit_in_bytes": "9223372036854771712\n",
    }))).toBeUndefined();
  });

  test("v1: the tightest limit among the own cgroup and its ancestors wins, with rss + mapped_file in use", () => {
    const read = files({
      "/proc/self/cgroup": V1_SELF,
      "/sys/fs/cgroup/memory/cgroup.procs": "",
      "/sys/fs/cgroup/memory/pods/agent/memory.limit_in_bytes": "9223372036854771712\n",
      "/sys/fs/cgroup/memory/pods/agent/memory.stat": "cache 4096\nrss 5000000\nmapped_file 1000000\n",
      "/sys/fs/cgroup/memory/pods/memory.limit_in_bytes": "41943040\n",
      "/sys/fs/cgroup/memory/memory.limit_in_bytes": "9223372036854771712\n",
    });
    expect(containerMemoryLimit(read)).toEqual({ bytes: 40 * MiB, source: "/sys/fs/cgroup/memory/pods/memory.limit_in_bytes", version: 1, inUseBytes: 6_000_000 });
  });

  test("no cgroup files at all: no limit", () => {
    expect(containerMemoryLimit(files({}))).toBeUndefined();
  });
});

describe("sizeMemoryStore()", () => {
  const limit = (mib: number) => ({ bytes: mib * MiB, source: "test", version: 1 as const });
  const base = { percent: 90, configuredMaxKeys: 1_000_000, explicit: false, baselineBytes: 7 * MiB, processes: 1 };

  test("keysThatFit() returns the largest count whose table fits, including the index's power-of-two steps", () => {
    for (const bytes of [100_000, 16 * MiB, 16 * MiB + 1, 21 * MiB, 300 * MiB]) {
      const keys = keysThatFit(bytes);
      expect(tatTableBytes(keys)).toBeLessThanOrEqual(bytes);
      expect(tatTableBytes(keys + 1)).toBeGreaterThan(bytes);
    }
    expect(keysThatFit(16 * MiB)).toBe(786_432); // 12 MiB of entries + a 4 MiB index of 2^20 slots
    expect(keysThatFit(0)).toBe(0);
  });

  test("40 MiB: 90 % minus the start charge and the load reserve goes to the table", () => {
    const sizing = sizeMemoryStore({ ...base, limit: limit(40) });
    expect(sizing.reason).toBe("limit");
    expect(sizing.targetBytes).toBe(36 * MiB);
    expect(sizing.tableBudgetBytes).toBe(36 * MiB - 7 * MiB - LOAD_RESERVE_BYTES);
    expect(sizing.maxKeys).toBe(keysThatFit(sizing.tableBudgetBytes!));
    expect(sizing.maxKeys).toBeLessThan(1_000_000);
  });

  test("a roomy limit keeps the default: the limit only ever lowers it", () => {
    expect(sizeMemoryStore({ ...base, limit: limit(1024) })).toMatchObject({ maxKeys: 1_000_000, reason: "default-fits" });
  });

  test("workers share the limit: each gets its share of what is left", () => {
    const one = sizeMemoryStore({ ...base, limit: limit(64) });
    const two = sizeMemoryStore({ ...base, limit: limit(64), processes: 2 });
    expect(two.tableBudgetBytes!).toBe(Math.floor((64 * MiB * 0.9 - 2 * (7 * MiB + LOAD_RESERVE_BYTES)) / 2));
    expect(two.maxKeys).toBeLessThan(one.maxKeys);
  });

  test("an explicit maxKeys is kept, with a warning when it does not fit", () => {
    const sizing = sizeMemoryStore({ ...base, limit: limit(40), explicit: true, configuredMaxKeys: 2_000_000 });
    expect(sizing.maxKeys).toBe(2_000_000);
    expect(sizing.reason).toBe("configured");
    expect(sizing.warning).toContain("may be OOM-killed");
    expect(sizeMemoryStore({ ...base, limit: limit(40), explicit: true, configuredMaxKeys: 10_000 }).warning).toBeUndefined();
  });

  test("a limit too small for any table keeps the minimum and warns; percent 0 and no limit leave the config alone", () => {
    const tiny = sizeMemoryStore({ ...base, limit: limit(16) });
    expect(tiny).toMatchObject({ maxKeys: MIN_KEYS, reason: "limit" });
    expect(tiny.warning).toContain("minimum");
    expect(sizeMemoryStore({ ...base, limit: limit(40), percent: 0 })).toEqual({ maxKeys: 1_000_000, reason: "disabled" });
    expect(sizeMemoryStore({ ...base, limit: undefined })).toEqual({ maxKeys: 1_000_000, reason: "no-limit" });
  });
});
