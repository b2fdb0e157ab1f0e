// The agent reads a CPU quota from its own cgroup (found through /proc/self/cgroup, not only at
// the mount root): started inside a cgroup-v1 cpu cgroup limited to half a core, it logs
// cpuLimit 0.5 at start, exports it, and `--workers auto` starts one worker.
import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { freePort, waitFor } from "../helpers/ports.ts";
import { scrape, valueOf } from "../helpers/prometheus.ts";
import { startWrappedAgent } from "../helpers/wrapped-agent.ts";

const V1_CPU = "/sys/fs/cgroup/cpu";
const canRun = existsSync(`${V1_CPU}/cpu.cfs_quota_us`) && process.getuid?.() === 0;
const skipped = canRun ? "" : ` (skipped: needs root and a cgroup-v1 cpu controller at ${V1_CPU})`;

describe.skipIf(!canRun)(`CPU limit from the agent's own cgroup (v1)${skipped}`, () => {
  test("half a core: logged at start as cpuLimit 0.5, exported as spoa_cpu_limit_cores, one worker for auto", async () => {
    const cgroup = `${V1_CPU}/spoa-test-${process.pid}`;
    mkdirSync(cgroup);
    writeFileSync(`${cgroup}/cpu.cfs_period_us`, "100000");
    writeFileSync(`${cgroup}/cpu.cfs_quota_us`, "50000");
    const metrics = await freePort();
    const agent = await startWrappedAgent("bun", `echo $$ > ${cgroup}/cgroup.procs`, [
      "serve", "--listen", `127.0.0.1:${await freePort()}`, "--metrics", `127.0.0.1:${metrics}`, "--workers", "auto",
    ]).catch((error) => {
      rmdirSync(cgroup);
      throw error;
    });
    try {
      const limits = agent.logs.find((l) => l.msg === "container limits");
      expect(limits).toMatchObject({ cpuLimit: 0.5, workers: 1 });
      expect(valueOf(await scrape(metrics), "spoa_cpu_limit_cores")).toBe(0.5);
    } finally {
      await agent.kill();
      await waitFor("an empty cgroup", () => readFileSync(`${cgroup}/cgroup.procs`, "utf8").trim() === "", 10_000);
      rmdirSync(cgroup);
    }
  }, 30_000);
});
