// Issue 4: `spoa-gcra check-config` as a user runs it (a real process under bun): the shipped
// example policy is valid (exit 0, a summary of its limits); a file with many mistakes exits 2
// and names every one of them by its path, not just the first.
import { describe, expect, test } from "bun:test";
import { resolve } from "node:path";
import { agentCommand } from "../helpers/agent-process.ts";

const ROOT = resolve(import.meta.dir, "../..");

/** Runs the CLI with `args` (no CONFIG_FILE or other config in the environment); bounded by a timeout. */
function cli(args: readonly string[]): { code: number; stdout: string; stderr: string } {
  const run = Bun.spawnSync(agentCommand("bun", args), {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp" },
    timeout: 20_000,
  });
  return { code: run.exitCode ?? -1, stdout: run.stdout.toString(), stderr: run.stderr.toString() };
}

/** Every problem tests/e2e/fixtures/policy-errors.yaml contains, by path and a word of its message. */
const EXPECTED_PROBLEMS: readonly (readonly [path: string, detail: string])[] = [
  ["unknownKey", "unknown key"],
  ["listen", '"nowhere"'],
  ["logLevel", '"chatty"'],
  ["identity.trustedProxies", "10.0.0.0/33"],
  ["limits[0].rate", '"100 per s"'],
  ["limits[0].burst", "got 0"],
  ["limits[1].rate", '"5/fortnight"'],
  ["limits[1].match.path.prefx", 'did you mean "prefix"'],
  ["limits[2].cost", "exceeds burst"],
  ["limits[3].name", 'duplicate limit name "search"'],
  ["limits[3].shadow", '"yes"'],
  ["limits[3].messages", '"no-such-message"'],
];

describe("spoa-gcra check-config", () => {
  test("accepts deploy/policy.example.yaml: exit 0 and a summary naming each limit", () => {
    const run = cli(["check-config", "--config", "deploy/policy.example.yaml"]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toStartWith("Configuration OK (deploy/policy.example.yaml)");
    for (const name of ["per-ip", "login", "api-key", "search-shadow (shadow: reports, never denies)"]) {
      expect(run.stdout).toContain(`\n  ${name}\n`);
    }
  }, 30_000);

  test("lists every problem of a file with twelve mistakes, each with its path, and exits 2", () => {
    const run = cli(["check-config", "--config", "tests/e2e/fixtures/policy-errors.yaml"]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
    const lines = run.stderr.trimEnd().split("\n");
    expect(lines[0]).toBe(`Configuration invalid (${EXPECTED_PROBLEMS.length} problems):`);
    const problems = lines.slice(1).map((line) => line.trim());
    expect(problems).toHaveLength(EXPECTED_PROBLEMS.length);
    for (const [path, detail] of EXPECTED_PROBLEMS) {
      // Each file key's path follows the file it is in.
      const line = problems.find((p) => p.startsWith(`tests/e2e/fixtures/policy-errors.yaml: ${path}: `));
      expect(line, `no problem reported for ${path}:\n${run.stderr}`).toBeDefined();
      expect(line).toContain(detail);
    }
  }, 30_000);

  // README.md documents `spoa-gcra check-config policy.yaml`.
  test("accepts the file as a positional argument, as README.md documents", () => {
    const run = cli(["check-config", "deploy/policy.example.yaml"]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
  }, 30_000);
});
