// .gitignore ignores what the tools write (build output, benchmark results, profiles, logs) and
// never a file the repository tracks.
import { describe, expect, test } from "bun:test";
import { resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "..");
const git = (...args: string[]) => Bun.spawnSync(["git", ...args], { cwd: ROOT });

describe(".gitignore", () => {
  test("ignores no tracked file", () => {
    const run = git("ls-files", "--cached", "--ignored", "--exclude-standard");
    expect(run.exitCode).toBe(0);
    expect(run.stdout.toString().split("\n").filter((l) => l !== "")).toEqual([]);
  });

  test("ignores what npm install, the builds, the benchmarks and profilers write", () => {
    const generated = ["node_modules/x", "dist/spoa-gcra", "dist/spoa-gcra-deno", "bench-results.json", "CPU.123.cpuprofile", "Heap.1.heapsnapshot", "agent.log", ".tmp/x"];
    const run = git("check-ignore", "--no-index", ...generated);
    expect(run.stdout.toString().split("\n").filter((l) => l !== "").sort()).toEqual([...generated].sort());
  });
});
