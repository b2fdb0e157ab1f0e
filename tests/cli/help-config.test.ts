// `spoa-gcra help config`: the policy-file reference the shipped example policies, the
// Containerfile and docs/deployment.md send people to.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseCliArgs } from "../../src/cli/args.ts";
import { FIELDS } from "../../src/config/fields.ts";
import { LIMIT_FIELDS } from "../../src/config/limits.ts";

const ROOT = resolve(import.meta.dir, "../..");

function runCli(args: readonly string[]): { code: number; stdout: string; stderr: string } {
  const run = Bun.spawnSync([resolve(ROOT, "node_modules/.bin/bun"), "run", resolve(ROOT, "src/cli/main.ts"), ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp" },
  });
  return { code: run.exitCode ?? -1, stdout: run.stdout.toString(), stderr: run.stderr.toString() };
}

describe("spoa-gcra help config", () => {
  const run = runCli(["help", "config"]);

  test("exits 0 and prints the reference on stdout", () => {
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("Usage: spoa-gcra --config FILE");
  });

  test("explains every file key and every limit key", () => {
    for (const field of FIELDS.filter((f) => f.inFile)) expect(run.stdout).toContain(`\n  ${field.key} `);
    for (const field of LIMIT_FIELDS) expect(run.stdout).toContain(`\n    ${field.key} `);
  });

  test("is asked for the way every place that cites it writes it, and as --help config", () => {
    expect(parseCliArgs(["help", "config"])).toMatchObject({ command: "help", positionals: ["config"] });
    for (const file of ["deploy/policy.example.yaml", "deploy/kubernetes/base/policy.yaml", "docs/deployment.md", "Containerfile"]) {
      expect(readFileSync(resolve(ROOT, file), "utf8")).toContain("spoa-gcra help config");
    }
  });

  test("the general help points to it", () => {
    expect(runCli(["--help"]).stdout).toContain("help config");
  });
});
