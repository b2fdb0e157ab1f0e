// The compiled binary in a cgroup-v1 memory cgroup of 40 MiB under a flood of distinct IPv6
// /64s that each stay limited for an hour: sized to the limit it is not OOM-killed, the
// cgroup's peak charge stays below the limit and the evictions show in /metrics; with the
// sizing turned off (memoryLimitPercent 0) the same flood gets it OOM-killed.
//
// The executable's page cache is read in by the test first, so it is charged outside the
// cgroup: what is measured is what the agent allocates. A fresh container also pays for the
// ~39 MiB of the executable it maps (docs/deployment.md, "Memory").
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { binaryPath } from "../helpers/agent-process.ts";
import { startWrappedAgent, type WrappedAgent } from "../helpers/wrapped-agent.ts";
import { floodIpv6 } from "../helpers/ipv6-flood.ts";
import { freePort, waitFor } from "../helpers/ports.ts";
import { scrape, valueOf } from "../helpers/prometheus.ts";

const V1_MEMORY = "/sys/fs/cgroup/memory";
const LIMIT = 40 * 1024 * 1024;
const KEYS = 1_200_000;
const canRun = existsSync(`${V1_MEMORY}/cgroup.procs`) && process.getuid?.() === 0;
const skipped = canRun ? "" : ` (skipped: needs root and a cgroup-v1 memory controller at ${V1_MEMORY})`;
const dir = mkdtempSync(join(tmpdir(), "limits-memory-"));
const policy = join(dir, "policy.yaml");
// One request an hour per /64: every key stays live, so only eviction keeps the table bounded.
writeFileSync(policy, "limits:\n  - name: hourly\n    rate: 1/h\n    burst: 1\n    key: [identity]\n");

afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface CgroupRun {
  readonly logs: Record<string, unknown>[];
  readonly alive: boolean;
  readonly peak: number;
  readonly failcnt: number;
  readonly oomKills: number;
  readonly acked: number;
  readonly metrics?: { readonly maxKeys: number; readonly keys: number; readonly evictions: number };
}

/** Starts the binary inside a fresh 40 MiB cgroup, floods it, reads the cgroup, removes it. */
async function runInCgroup(extraArgs: readonly string[]): Promise<CgroupRun> {
  const cgroup = `${V1_MEMORY}/spoa-test-${process.pid}-${Math.floor(Math.random() * 1e6)}`;
  mkdirSync(cgroup);
  writeFileSync(`${cgroup}/memory.limit_in_bytes`, String(LIMIT));
  const spop = await freePort();
  const metrics = await freePort();
  let agent: WrappedAgent | undefined;
  try {
    agent = await startWrappedAgent("binary", `echo $$ > ${cgroup}/cgroup.procs`, [
      "serve", "--listen", `127.0.0.1:${spop}`, "--metrics", `127.0.0.1:${metrics}`, "--config", policy, ...extraArgs,
    ]);
    const flood = await floodIpv6({ port: spop, total: KEYS, connections: 4, window: 64, timeoutMs: 90_000 });
    // A killed process is reaped a moment after its sockets reset.
    const alive = await agent.aliveAfter(500);
    const families = alive ? await scrape(metrics) : undefined;
    const stat = (file: string) => readFileSync(`${cgroup}/${file}`, "utf8");
    return {
      logs: agent.logs,
      alive,
      peak: Number(stat("memory.max_usage_in_bytes")),
      failcnt: Number(stat("memory.failcnt")),
      oomKills: Number(/oom_kill (\d+)/.exec(stat("memory.oom_control"))?.[1] ?? 0),
      acked: flood.acked,
      ...(families === undefined ? {} : {
        metrics: {
          maxKeys: valueOf(families, "spoa_memory_store_max_keys"),
          keys: valueOf(families, "spoa_memory_store_keys"),
          evictions: valueOf(families, "spoa_memory_store_evictions_total"),
        },
      }),
    };
  } finally {
    await agent?.kill();
    await waitFor("an empty cgroup", () => readFileSync(`${cgroup}/cgroup.procs`, "utf8").trim() === "", 10_000);
    rmdirSync(cgroup);
  }
}

describe.skipIf(!canRun)(`memory limit: the compiled binary in a 40 MiB cgroup (v1) under a /64 flood${skipped}`, () => {
  test("sized to 90 % of the limit it survives 1.2M live keys: no OOM kill, peak below the limit, evictions counted", async () => {
    // The page cache of the executable is charged to whoever reads it first: the test, not the cgroup.
    readFileSync(binaryPath());
    const run = await runInCgroup([]);
    const limits = run.logs.find((l) => l.msg === "container limits");
    console.log(`40 MiB cgroup: peak charge ${(run.peak / 1048576).toFixed(1)} MiB, failcnt ${run.failcnt}, OOM kills ${run.oomKills}, ` +
      `maxKeys ${run.metrics?.maxKeys}, keys ${run.metrics?.keys}, evictions ${run.metrics?.evictions}, start log ${JSON.stringify(limits)}`);
    expect(limits).toMatchObject({ memoryLimit: "40.0 MiB", maxKeysFrom: "limit" });
    expect(run.alive).toBe(true);
    expect(run.oomKills).toBe(0);
    expect(run.peak).toBeLessThan(LIMIT);
    expect(run.acked).toBe(KEYS);
    const m = run.metrics!;
    expect(m.maxKeys).toBe(limits!.memoryStoreMaxKeys as number);
    expect(m.maxKeys).toBeLessThan(1_000_000);
    expect(m.keys).toBe(m.maxKeys);
    // Every key lives an hour, so each one beyond the bound evicted exactly one other.
    expect(m.evictions).toBe(KEYS - m.maxKeys);
  }, 150_000);

  test("with the sizing off (memoryLimitPercent 0) the same flood gets the default 1M-key table OOM-killed", async () => {
    readFileSync(binaryPath());
    const run = await runInCgroup(["--memory-limit-percent", "0"]);
    console.log(`40 MiB cgroup, sizing off: alive ${run.alive}, OOM kills ${run.oomKills}, acked ${run.acked} of ${KEYS}`);
    expect(run.logs.find((l) => l.msg === "container limits")).toMatchObject({ maxKeysFrom: "disabled", memoryStoreMaxKeys: 1_000_000 });
    expect(run.oomKills).toBeGreaterThan(0);
    expect(run.alive).toBe(false);
  }, 150_000);
});
