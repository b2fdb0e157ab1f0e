import { describe, expect, test } from "bun:test";
import { resolve } from "node:path";
import { flagsNpmTook } from "../../src/cli/npm-flags.ts";

const ROOT = resolve(import.meta.dir, "../..");

describe("flagsNpmTook()", () => {
  test("finds the agent's flags npm recorded as its own config, only under npm", () => {
    expect(flagsNpmTook({ npm_lifecycle_event: "start", npm_config_listen: "true", npm_config_rate_burst: "true", npm_config_cache: "/root/.npm" })).toEqual(["listen", "rate-burst"]);
    expect(flagsNpmTook({ npm_config_listen: "true" })).toEqual([]);
    // npm's own --version and --help are npm's business.
    expect(flagsNpmTook({ npm_lifecycle_event: "start", npm_config_version: "true" })).toEqual([]);
  });

  test("npm start --listen X refuses to start and shows where the flag goes", () => {
    const run = Bun.spawnSync(["npm", "start", "--silent", "--listen", "127.0.0.1:1"], {
      cwd: ROOT,
      env: { PATH: `${resolve(ROOT, "node_modules/.bin")}:${process.env.PATH ?? ""}`, HOME: process.env.HOME ?? "/tmp" },
      timeout: 30_000,
    });
    expect(run.exitCode).not.toBe(0);
    expect(run.stderr.toString()).toContain("spoa-gcra: npm took --listen for itself and never passed it on: put the agent's flags after --, e.g. npm start -- --listen ...");
  }, 30_000);
});
