// Importing the core entry ("." → mod.ts) loads no runtime adapter, no network client and no
// node: module: checked on the module graph twice — what a fresh `bun -e` import actually
// loaded, and what a bundler resolves statically — with the Valkey entry as the control that
// proves each check sees node_modules and node: imports when they are there. Every file it
// reaches is also in the pure-core compilation (tsconfig.core.json), where a host API fails to compile.
import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import ts from "typescript";

const ROOT = resolve(import.meta.dir, "../..");
const BUN = resolve(ROOT, "node_modules/.bin/bun");

/** Every module a fresh Bun process has loaded after importing `entry` (Bun lists ESM in require.cache). */
function loadedModules(entry: string): string[] {
  const script = `await import(${JSON.stringify(`./${entry}`)}); console.log(JSON.stringify(Object.keys(require.cache)));`;
  const run = Bun.spawnSync([BUN, "-e", script], { cwd: ROOT });
  if (run.exitCode !== 0) throw new Error(`importing ${entry} failed: ${run.stderr.toString()}`);
  return JSON.parse(run.stdout.toString());
}

interface GraphInput {
  readonly imports: readonly { readonly path: string; readonly external?: boolean }[];
}

/** The static module graph of `entry` from `bun build --metafile`: each input and what it imports. */
function staticGraph(entry: string): Record<string, GraphInput> {
  const dir = mkdtempSync(join(tmpdir(), "spoa-graph-"));
  try {
    const meta = join(dir, "meta.json");
    const run = Bun.spawnSync([BUN, "build", entry, "--target=node", `--outdir=${dir}`, `--metafile=${meta}`], { cwd: ROOT });
    if (run.exitCode !== 0) throw new Error(`bun build ${entry} failed: ${run.stderr.toString()}`);
    return JSON.parse(readFileSync(meta, "utf8")).inputs;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const nodeImports = (graph: Record<string, GraphInput>) =>
  Object.entries(graph).flatMap(([file, input]) =>
    input.imports.filter((i) => i.path.startsWith("node:") || i.external === true).map((i) => `${file} → ${i.path}`)
  );

describe("the core entry's module graph", () => {
  test("a fresh import of mod.ts loads only mod.ts and pure-core files, nothing from node_modules", () => {
    const loaded = loadedModules("mod.ts").map((file) => file.slice(ROOT.length + 1));
    expect(loaded).toContain("mod.ts");
    expect(loaded.filter((file) => file.includes("node_modules"))).toEqual([]);
    expect(loaded.filter((file) => file !== "mod.ts" && !/^src\/(spop|agent|ratelimit)\//.test(file))).toEqual([]);
    expect(loaded.filter((file) => /^src\/(runtime|app|cli|observe)\/|\/valkey\//.test(file))).toEqual([]);
  });

  test("statically, mod.ts reaches no node: module, package or runtime file", () => {
    const graph = staticGraph("mod.ts");
    expect(Object.keys(graph)).toContain("src/agent/agent.ts");
    expect(Object.keys(graph).filter((file) => file.includes("node_modules") || /src\/(runtime|app|cli)\//.test(file))).toEqual([]);
    expect(nodeImports(graph)).toEqual([]);
  });

  test("every file mod.ts reaches is compiled by tsconfig.core.json, which knows no host API", () => {
    const config = ts.getParsedCommandLineOfConfigFile(join(ROOT, "tsconfig.core.json"), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} });
    const core = new Set((config?.fileNames ?? []).map((file) => file.slice(ROOT.length + 1)));
    expect(core.size).toBeGreaterThan(0);
    expect(Object.keys(staticGraph("mod.ts")).filter((file) => file !== "mod.ts" && !core.has(file))).toEqual([]);
  });

  test("control: the same checks do see the Valkey entry's redis client and node: imports", () => {
    const loaded = loadedModules("exports/valkey.ts");
    expect(loaded.some((file) => file.includes("node_modules/redis/"))).toBe(true);
    expect(nodeImports(staticGraph("exports/valkey.ts"))).toContain("src/ratelimit/valkey/store.ts → node:crypto");
  });
});
