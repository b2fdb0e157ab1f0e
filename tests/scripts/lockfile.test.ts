// package-lock.json is what `npm ci` (.ci/run, scripts/test.sh) installs from: `npm ci` must
// accept it, and `npm install` must leave it unchanged (it lists every platform's optional
// deno and bun packages, which the registry serves).
import { describe, expect, test } from "bun:test";
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "../..");
const NPM_ENV = { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp" };

function npm(dir: string, args: readonly string[]): { code: number | null; output: string } {
  const run = Bun.spawnSync(["npm", ...args, "--ignore-scripts", "--no-audit", "--no-fund"], { cwd: dir, env: NPM_ENV, timeout: 120_000 });
  return { code: run.exitCode, output: run.stdout.toString() + run.stderr.toString() };
}

describe("package-lock.json", () => {
  test("npm ci accepts it and npm install leaves it unchanged", () => {
    const dir = mkdtempSync(join(tmpdir(), "spoa-lock-"));
    try {
      for (const file of ["package.json", "package-lock.json"]) copyFileSync(resolve(ROOT, file), join(dir, file));
      const ci = npm(dir, ["ci", "--dry-run"]);
      expect({ code: ci.code, missing: ci.output.match(/Missing: .*/g) ?? [] }).toEqual({ code: 0, missing: [] });
      expect(npm(dir, ["install", "--package-lock-only"]).code).toBe(0);
      expect(readFileSync(join(dir, "package-lock.json"), "utf8")).toBe(readFileSync(resolve(ROOT, "package-lock.json"), "utf8"));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 240_000);

  test(".ci/run and scripts/test.sh install with npm ci", () => {
    for (const script of [".ci/run", "scripts/test.sh"]) {
      const text = readFileSync(resolve(ROOT, script), "utf8");
      expect({ script, ci: /\bnpm ci\b/.test(text), install: /^[^#]*\bnpm install\b/m.test(text) }).toEqual({ script, ci: true, install: false });
    }
  });
});
