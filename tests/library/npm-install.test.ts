// The package as a stranger gets it: `npm pack` of this checkout, installed offline into a fresh
// project outside the repository, and an agent written against the installed package only
// (tests/library/stranger/agent.ts) type-checked and run under Bun, Deno and Node.
// The fresh project's lockfile lists the tarball and our production dependencies as our own
// lockfile pins them, so `npm ci --offline` installs from the npm cache and no registry is asked.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "../..");
const BIN = join(ROOT, "node_modules/.bin");
const PACKAGE = "@spoa-gcra/spoa-gcra";

interface LockEntry {
  readonly dev?: boolean;
  readonly [field: string]: unknown;
}

function sh(command: string[], cwd: string): string {
  const run = Bun.spawnSync(command, { cwd, timeout: 120_000, env: { ...process.env, NO_COLOR: "1", npm_config_update_notifier: "false" } });
  const output = run.stdout.toString() + run.stderr.toString();
  if (run.exitCode !== 0) throw new Error(`${command.join(" ")} failed (${run.exitCode}):\n${output}`);
  return output;
}

/** package.json and package-lock.json of a project that depends on the tarball only. */
function writeStrangerProject(dir: string, tarball: string): void {
  const ours = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
  const lock = JSON.parse(readFileSync(join(ROOT, "package-lock.json"), "utf8")) as { packages: Record<string, LockEntry> };
  const dependency = { [PACKAGE]: `file:${tarball}` };
  const production = Object.entries(lock.packages).filter(([path, entry]) => path !== "" && entry.dev !== true);
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "stranger-agent", private: true, type: "module", dependencies: dependency }));
  writeFileSync(join(dir, "package-lock.json"), JSON.stringify({
    name: "stranger-agent",
    lockfileVersion: 3,
    requires: true,
    packages: {
      "": { name: "stranger-agent", dependencies: dependency },
      [`node_modules/${PACKAGE}`]: { version: ours.version, resolved: `file:${tarball}`, license: ours.license, dependencies: ours.dependencies, bin: ours.bin },
      ...Object.fromEntries(production),
    },
  }));
  // The stranger's own compiler settings: strict, no path tricks, Bun's types for node:net.
  writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({
    compilerOptions: {
      target: "ES2022",
      module: "ESNext",
      moduleResolution: "bundler",
      strict: true,
      noEmit: true,
      types: ["bun"],
      typeRoots: [join(ROOT, "node_modules/@types")],
    },
    files: ["agent.ts"],
  }));
  copyFileSync(join(import.meta.dir, "stranger/agent.ts"), join(dir, "agent.ts"));
}

const EXPECTED = { inMemory: ["true", "false"], overSocket: ["true"], valkeyEntry: true };

describe(`${PACKAGE} packed and installed into a fresh project, offline`, () => {
  const work = mkdtempSync(join(tmpdir(), "spoa-npm-"));
  const project = join(work, "stranger");
  let tarball = "";

  beforeAll(() => {
    sh(["npm", "pack", "--offline", "--pack-destination", work], ROOT);
    const packed = readdirSync(work).filter((name) => name.endsWith(".tgz"));
    expect(packed).toEqual(["spoa-gcra-spoa-gcra-0.1.0.tgz"]);
    tarball = join(work, packed[0]);
    mkdirSync(project);
    writeStrangerProject(project, tarball);
    sh(["npm", "ci", "--offline", "--no-audit", "--no-fund"], project);
  }, 240_000);

  afterAll(() => rmSync(work, { recursive: true, force: true }));

  test("the tarball holds the sources, their JavaScript and declarations, and no tests", () => {
    const listing = sh(["tar", "tzf", tarball], work).split("\n");
    for (const file of ["package/mod.ts", "package/dist/npm/mod.js", "package/dist/npm/mod.d.ts", "package/dist/npm/exports/testing.js"]) {
      expect(listing).toContain(file);
    }
    expect(listing.filter((file) => /^package\/(tests|bench|deploy|scripts)\//.test(file) || file.includes("node_modules"))).toEqual([]);
  });

  test("the installed package resolves every entry the repository's package.json declares", () => {
    const installed = JSON.parse(readFileSync(join(project, "node_modules", PACKAGE, "package.json"), "utf8"));
    expect(installed.name).toBe(PACKAGE);
    expect(installed.private).toBeUndefined();
    for (const [entry, targets] of Object.entries(installed.exports as Record<string, Record<string, string>>)) {
      for (const target of Object.values(targets)) expect(`${entry} ${existsSync(join(project, "node_modules", PACKAGE, target))}`).toBe(`${entry} true`);
    }
  });

  test("the agent type-checks against the installed package's declarations", () => {
    sh([join(BIN, "tsc"), "-p", project], project);
  }, 120_000);

  const run = (command: string[]) => JSON.parse(sh(command, project).trim().split("\n").at(-1) ?? "");

  test("the agent runs under Bun", () => {
    expect(run([join(BIN, "bun"), "agent.ts"])).toEqual({ runtime: "bun", ...EXPECTED });
  }, 60_000);

  test("the agent runs under Deno, from the package's JavaScript", () => {
    expect(run([join(BIN, "deno"), "run", "--allow-net", "--allow-read", "--allow-env", "--allow-sys", "agent.ts"])).toEqual({ runtime: "deno", ...EXPECTED });
  }, 60_000);

  test("the agent runs under Node once bundled (Node 20 runs no TypeScript)", () => {
    sh([join(BIN, "bun"), "build", "agent.ts", "--target=node", "--format=esm", "--outfile=agent.mjs"], project);
    expect(run(["node", "agent.mjs"])).toEqual({ runtime: "node", ...EXPECTED });
  }, 60_000);
});
