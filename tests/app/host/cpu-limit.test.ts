import { describe, expect, test } from "bun:test";
import { autoWorkerCount, containerCpuLimit, parseCpuMax } from "../../../src/app/host/cpu-limit.ts";

const files = (map: Record<string, string>) => (path: string) => map[path];

describe("cpu-limit", () => {
  test("parseCpuMax() reads quota/period and treats `max` as no limit", () => {
    expect(parseCpuMax("150000 100000\n")).toBe(1.5);
    expect(parseCpuMax("max 100000\n")).toBeUndefined();
  });

  test("containerCpuLimit() on cgroup v2 takes the tightest cpu.max of the own cgroup and its ancestors", () => {
    const read = files({
      "/proc/self/cgroup": "0::/kubepods/pod1\n",
      "/sys/fs/cgroup/cgroup.controllers": "cpu memory\n",
      "/sys/fs/cgroup/kubepods/pod1/cpu.max": "max 100000\n",
      "/sys/fs/cgroup/kubepods/cpu.max": "50000 100000\n",
      "/sys/fs/cgroup/cpu.max": "max 100000\n",
    });
    expect(containerCpuLimit(read)).toBe(0.5);
  });

  test("containerCpuLimit() on cgroup v1 reads cfs quota and period; -1 is no limit", () => {
    const v1 = (quota: string) => files({
      "/proc/self/cgroup": "3:cpu,cpuacct:/\n0::/\n",
      "/sys/fs/cgroup/cpu/cgroup.procs": "",
      "/sys/fs/cgroup/cpu/cpu.cfs_quota_us": quota,
      "/sys/fs/cgroup/cpu/cpu.cfs_period_us": "100000\n",
    });
    expect(containerCpuLimit(v1("200000\n"))).toBe(2);
    expect(containerCpuLimit(v1("-1\n"))).toBeUndefined();
  });

  test("autoWorkerCount() rounds the limit up, caps it at the cores, and uses the cores without a limit", () => {
    const v2 = (max: string) => files({ "/proc/self/cgroup": "0::/\n", "/sys/fs/cgroup/cgroup.controllers": "cpu", "/sys/fs/cgroup/cpu.max": max });
    expect(autoWorkerCount({ read: v2("150000 100000"), cores: 8 })).toBe(2);
    expect(autoWorkerCount({ read: v2("1600000 100000"), cores: 8 })).toBe(8);
    expect(autoWorkerCount({ read: v2("max 100000"), cores: 3 })).toBe(3);
  });
});
