// Keeps the layering of design.md §2 true: imports point down only, no cycles, and host
// APIs (Deno., Bun., node:, timers) stay out of the pure core.
import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "..");
const SRC = join(ROOT, "src");

/** Which of our layers each layer may import (design.md §2; engineering-notes §1). */
const ALLOWED: Record<string, readonly string[]> = {
  spop: ["spop"],
  agent: ["agent", "spop"],
  ratelimit: ["ratelimit", "agent", "spop"],
  // The listen address type lives beside Transport in agent/, where both config and runtime see it.
  // The log level names are the logger's (observe/log.ts): one list for the logger and the config.
  config: ["config", "ratelimit", "agent", "observe"],
  // The observability primitives take the core's Clock and Timers (agent/time.ts), nothing else of ours.
  observe: ["observe", "agent"],
  runtime: ["runtime", "agent", "observe"],
  // Composition: builds stores and handlers, wires telemetry, reloads config, supervises workers.
  app: ["app", "runtime", "config", "observe", "ratelimit", "agent", "spop"],
  // The command line parses, prints and calls the app; it builds no engine (the app does). It
  // still reads its process through runtime/process.ts and prints rates and variable names.
  cli: ["cli", "app", "runtime", "config", "observe", "ratelimit"],
};

/** Files of the pure core that may touch the network client (design.md §6). */
const IMPURE_IN_CORE = (file: string) => file.startsWith("ratelimit/valkey/");
const PURE_LAYERS = new Set(["spop", "agent", "ratelimit"]);
// Global timers and `performance` are not in lib ES2022, so tsconfig.core.json already fails on
// them (tests/typecheck.test.ts); this catches what that lib does declare or what a cast hides.
const HOST_API = /\bDeno\.|\bBun\.|(?<![.\w])process\.|\bDate\.now\(|\bglobalThis\.setTimeout\b/;

function listTs(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...listTs(path));
    else if (name.endsWith(".ts")) out.push(path);
  }
  return out;
}

/** Strips comments so a JSDoc mentioning `Deno.listen` is not an import of it. */
function stripComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`])\/\/.*$/gm, "$1");
}

function importsOf(text: string): string[] {
  const specs: string[] = [];
  const pattern = /(?:import|export)\s[^;]*?from\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g;
  for (const match of text.matchAll(pattern)) specs.push(match[1] ?? match[2]);
  return specs;
}

const files = listTs(SRC).filter((f) => !f.endsWith(".d.ts"));
const layerOf = (file: string) => relative(SRC, file).split("/")[0];
const graph = new Map<string, string[]>();
for (const file of files) {
  const text = stripComments(readFileSync(file, "utf8"));
  graph.set(
    file,
    importsOf(text).filter((s) => s.startsWith(".")).map((s) => resolve(dirname(file), s)),
  );
}

describe("architecture", () => {
  test("src has layered folders to check", () => {
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) expect(Object.keys(ALLOWED)).toContain(layerOf(file));
  });

  test("every import points down the layer list of design.md", () => {
    const violations: string[] = [];
    for (const [file, deps] of graph) {
      for (const dep of deps) {
        if (!dep.startsWith(SRC)) continue;
        const from = layerOf(file);
        const to = layerOf(dep);
        if (!ALLOWED[from].includes(to)) violations.push(`${relative(ROOT, file)} → ${relative(ROOT, dep)}`);
      }
    }
    expect(violations).toEqual([]);
  });

  test("runtime adapters do not import each other", () => {
    const violations: string[] = [];
    for (const [file, deps] of graph) {
      const name = relative(SRC, file);
      if (!/^runtime\/(bun|deno|node)\.ts$/.test(name)) continue;
      for (const dep of deps) {
        if (/runtime\/(bun|deno|node)\.ts$/.test(dep)) violations.push(`${name} → ${relative(SRC, dep)}`);
      }
    }
    expect(violations).toEqual([]);
  });

  test("there are no import cycles", () => {
    const state = new Map<string, "visiting" | "done">();
    const cycles: string[] = [];
    const visit = (file: string, path: string[]) => {
      if (state.get(file) === "done") return;
      if (state.get(file) === "visiting") {
        cycles.push([...path.slice(path.indexOf(file)), file].map((f) => relative(SRC, f)).join(" → "));
        return;
      }
      state.set(file, "visiting");
      for (const dep of graph.get(file) ?? []) visit(dep, [...path, file]);
      state.set(file, "done");
    };
    for (const file of graph.keys()) visit(file, []);
    expect(cycles).toEqual([]);
  });

  test("the pure core uses no host API, node: module or timer", () => {
    const violations: string[] = [];
    for (const file of files) {
      const name = relative(SRC, file);
      if (!PURE_LAYERS.has(layerOf(file)) || IMPURE_IN_CORE(name)) continue;
      const text = stripComments(readFileSync(file, "utf8"));
      if (HOST_API.test(text)) violations.push(`${name}: ${text.match(HOST_API)?.[0]}`);
      for (const spec of importsOf(text)) {
        if (!spec.startsWith(".")) violations.push(`${name}: imports ${spec}`);
      }
    }
    expect(violations).toEqual([]);
  });

  test("Deno. and Bun. appear only in src/runtime and src/cli", () => {
    const violations: string[] = [];
    for (const file of files) {
      const layer = layerOf(file);
      if (layer === "runtime" || layer === "cli") continue;
      const text = stripComments(readFileSync(file, "utf8"));
      if (/\bDeno\.|\bBun\./.test(text)) violations.push(relative(SRC, file));
    }
    expect(violations).toEqual([]);
  });

  test("mod.ts exports the library face without runtime, composition or cli code", () => {
    const text = stripComments(readFileSync(join(ROOT, "mod.ts"), "utf8"));
    const specs = importsOf(text);
    expect(specs.length).toBeGreaterThan(0);
    for (const spec of specs) expect(spec).not.toMatch(/src\/(runtime|app|cli)\//);
  });

  test("the composition root is src/app/agent-app.ts: only it makes the metric registry, the engine and the store", () => {
    const makers: Record<string, RegExp> = {
      "new Registry(": /\bnew Registry\(/,
      "new Agent(": /\bnew Agent\(/,
      "buildStore(": /\bbuildStore\(/,
      "startAgentApp(": /\bstartAgentApp\(/,
    };
    const found: string[] = [];
    for (const file of files) {
      const name = relative(SRC, file);
      if (name === "app/agent-app.ts" || name === "app/stores.ts") continue;
      const text = stripComments(readFileSync(file, "utf8"));
      for (const [what, pattern] of Object.entries(makers)) {
        // The CLI starts the app; the library's serve() makes its own small Agent.
        if (what === "startAgentApp(" && name === "cli/serve.ts") continue;
        if (what === "new Agent(" && name === "runtime/serve.ts") continue;
        if (pattern.test(text)) found.push(`${name}: ${what}`);
      }
    }
    expect(found).toEqual([]);
  });

  test("metrics are declared only by telemetry, never in the CLI, runtime, core or beside a probe", () => {
    // One home per metric: telemetry.ts, which the app hands each part it observes.
    const DECLARERS = new Set(["app/telemetry.ts"]);
    const declaration = /\.(counter|gauge|histogram|computedGauge)\(\s*\{\s*name:/;
    const found = files.map((file) => relative(SRC, file)).filter((name) => !name.startsWith("observe/") && !DECLARERS.has(name))
      .filter((name) => declaration.test(stripComments(readFileSync(join(SRC, name), "utf8"))));
    expect(found).toEqual([]);
  });

  test("in src/app only host/ (and the config file watcher) touch the file system", () => {
    const found = files.map((file) => relative(SRC, file))
      .filter((name) => name.startsWith("app/") && !name.startsWith("app/host/") && name !== "app/config-watcher.ts")
      .filter((name) => importsOf(stripComments(readFileSync(join(SRC, name), "utf8"))).some((spec) => spec === "node:fs" || spec === "node:fs/promises"));
    expect(found).toEqual([]);
  });

  test("src/ratelimit's root holds GCRA, rates and the store contract and handler; every folder opens with a one-line README", () => {
    const ratelimit = join(SRC, "ratelimit");
    const root = readdirSync(ratelimit).filter((name) => !statSync(join(ratelimit, name)).isDirectory()).sort();
    expect(root).toEqual(["gcra-lua.ts", "gcra.ts", "handler.ts", "rate.ts", "store-admin.ts", "store.ts"]);
    const folders = readdirSync(ratelimit).filter((name) => statSync(join(ratelimit, name)).isDirectory());
    for (const folder of ["identity", "policy", "memory", "valkey", "resilience", "answer"]) expect(folders).toContain(folder);
    for (const folder of folders) {
      const readme = join(ratelimit, folder, "README.md");
      const lines = existsSync(readme) ? readFileSync(readme, "utf8").trim().split("\n") : [];
      expect({ folder, lines: lines.length, opens: lines[0]?.startsWith(`# ${folder}/ — `) }).toEqual({ folder, lines: 1, opens: true });
    }
  });

  test("time has one vocabulary: Clock and Timers are declared once, in agent/time.ts, the only engine file observe sees", () => {
    const declared = files.map((file) => relative(SRC, file))
      .filter((name) => /\b(interface|type) (Clock|Timers|LagTimers)\b/.test(stripComments(readFileSync(join(SRC, name), "utf8"))));
    expect(declared).toEqual(["agent/time.ts"]);
    const fromObserve = [...graph].filter(([file]) => layerOf(file) === "observe")
      .flatMap(([, deps]) => deps.filter((dep) => dep.startsWith(SRC) && layerOf(dep) === "agent").map((dep) => relative(SRC, dep)));
    expect([...new Set(fromObserve)].filter((dep) => dep !== "agent/time.ts")).toEqual([]);
  });

  test("package.json and deno.json name and export the same entry points", () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
    const deno = JSON.parse(readFileSync(join(ROOT, "deno.json"), "utf8"));
    const sources = Object.fromEntries(Object.entries(pkg.exports as Record<string, { bun: string }>).map(([entry, targets]) => [entry, targets.bun]));
    expect(sources).toEqual(deno.exports);
    expect([pkg.name, pkg.version]).toEqual([deno.name, deno.version]);
  });

  test("each npm entry ships its source to Bun and its build (JavaScript, declarations) to everything else", () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
    for (const [entry, targets] of Object.entries(pkg.exports as Record<string, Record<string, string>>)) {
      const built = targets.bun.replace(/^\.\//, "./dist/npm/").replace(/\.ts$/, "");
      expect({ entry, ...targets } as Record<string, string>).toEqual({ entry, types: `${built}.d.ts`, bun: targets.bun, default: `${built}.js` });
    }
  });
});
