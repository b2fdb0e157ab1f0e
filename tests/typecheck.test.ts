// The type checks are part of the suite: strict TypeScript for everything, and the pure-core
// configuration that fails on any host API (design.md §6).
import { describe, expect, test } from "bun:test";
import { resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "..");
const TSC = resolve(ROOT, "node_modules/.bin/tsc");

function tsc(project: string): { code: number; output: string } {
  const run = Bun.spawnSync([TSC, "-p", project, "--pretty", "false"], { cwd: ROOT });
  return { code: run.exitCode ?? 1, output: run.stdout.toString() + run.stderr.toString() };
}

describe("type checks", () => {
  test("the whole project compiles under strict TypeScript", () => {
    const result = tsc("tsconfig.json");
    expect(result.output).toBe("");
    expect(result.code).toBe(0);
  }, 120_000);

  test("the pure core compiles without any runtime types", () => {
    const result = tsc("tsconfig.core.json");
    expect(result.output).toBe("");
    expect(result.code).toBe(0);
  }, 120_000);
});
