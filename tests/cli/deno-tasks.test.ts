// `deno task …` with the Deno that `npm install` puts in node_modules. Deno's task runner looks a
// bare command up in node_modules/.bin first and runs what it finds there as a JavaScript bin
// script; npm's deno and bun entries are native executables, so a bare `deno`/`bun` in a task
// died with "SyntaxError: Invalid or unexpected token … node_modules/deno/deno:1:1".
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "../..");
const DENO = resolve(ROOT, "node_modules/.bin/deno");
const tasks = (JSON.parse(readFileSync(resolve(ROOT, "deno.json"), "utf8")) as { tasks: Record<string, string> }).tasks;

describe("deno.json tasks", () => {
  test("never start with a bare command that node_modules/.bin shadows", () => {
    const shadowed = ["deno", "bun", "bunx", "tsc", "yaml"];
    for (const [name, command] of Object.entries(tasks)) {
      const first = command.trim().split(/\s+/)[0];
      expect({ name, first, shadowed: shadowed.includes(first) }).toEqual({ name, first, shadowed: false });
    }
  });

  test("`deno task start --version` runs the agent under the npm-installed Deno", () => {
    const run = Bun.spawnSync([DENO, "task", "start", "--version"], { cwd: ROOT, env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", NO_COLOR: "1" } });
    const output = run.stdout.toString() + run.stderr.toString();
    expect(output).not.toContain("SyntaxError");
    expect(run.stdout.toString()).toMatch(/^spoa-gcra \S+ \(deno\)$/m);
    expect(run.exitCode).toBe(0);
  }, 60_000);

  test("the README runs Deno the way npm installs it (npx deno), never a bare `deno` that is not on PATH", () => {
    const readme = readFileSync(resolve(ROOT, "README.md"), "utf8");
    const shellLines = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((block) => block[1].split("\n"));
    const prose = readme.split("\n").flatMap((line) => [...line.matchAll(/`([^`]*\bdeno (?:run|task) [^`]+)`/g)].map((m) => m[1]));
    const denoCommands = [...shellLines, ...prose].filter((line) => /(^|\s)deno (run|task|compile)\b/.test(line));
    expect(denoCommands.length).toBeGreaterThan(0);
    for (const line of denoCommands) expect(line).toMatch(/npx deno (run|task|compile)/);
  });
});
