// The CLI commands the README quotes in its prose run as written in a fresh checkout
// (after `npm install`): `npx spoa-gcra …`.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "../..");
const README = readFileSync(resolve(ROOT, "README.md"), "utf8");

describe("README: npx spoa-gcra …", () => {
  const commands = [...README.matchAll(/`(npx spoa-gcra [^`]+)`/g)].map((m) => m[1]);

  test("the README names the CLI the way a checkout can run it", () => {
    expect(commands.length).toBeGreaterThanOrEqual(3);
    expect(README).not.toMatch(/`spoa-gcra (--help|check-config|help)/);
  });

  test("each quoted command exits 0", () => {
    for (const command of commands) {
      const run = Bun.spawnSync(["bash", "-c", command], { cwd: ROOT, env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp" }, timeout: 30_000 });
      expect({ command, code: run.exitCode, stderr: run.stderr.toString() }).toEqual({ command, code: 0, stderr: "" });
    }
  }, 120_000);
});
