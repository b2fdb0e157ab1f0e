// Every example the library documents runs as written: the @examples of each entry's exports
// and @module comments, the README's "Build your own agent" section and docs/library.md.
// Each is written to a temp file with its package imports pointed at this checkout, type-checked
// with the project's options, and run on the runtime it imports (Bun, Deno, or Node via a bundle).
// console.assert failures count: they print "Assertion failed" instead of throwing.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import ts from "typescript";
import { buildForNode } from "../helpers/node-build.ts";
import {
  apiProgram,
  type DocExample,
  entries,
  markdownExamples,
  moduleExamples,
  parseExample,
  ROOT,
  tagText,
} from "./api-surface.ts";

const BUN = resolve(ROOT, "node_modules/.bin/bun");
const DENO = resolve(ROOT, "node_modules/.bin/deno");
const PACKAGE = "@spoa-gcra/spoa-gcra";

/** Every documented example, each once (a declaration re-exported by three entries is one example). */
function collectExamples(): DocExample[] {
  const { checker, exports } = apiProgram();
  const found = new Map<string, DocExample>();
  const add = (example: DocExample | { problem: string }) => {
    if ("code" in example) found.set(`${example.where}: ${example.title}`, example);
  };
  for (const e of exports) {
    const where = `${e.file} ${e.symbol.name}`;
    for (const tag of e.symbol.getJsDocTags(checker)) if (tag.name === "example") add(parseExample(where, tagText(tag)));
  }
  for (const file of Object.values(entries())) for (const example of moduleExamples(file.slice(2))) add(example);
  for (const example of markdownExamples("README.md", "## Build your own agent")) add(example);
  for (const example of markdownExamples("docs/library.md")) add(example);
  return [...found.values()];
}

/** The example with its package imports pointed at this checkout's entry files. */
function localise(code: string): string {
  return code.replace(/(["'])@spoa-gcra\/spoa-gcra(\/(bun|deno|node|valkey|serve|testing))?\1/g, (_m, quote, _sub, name) =>
    `${quote}${name === undefined ? join(ROOT, "mod.ts") : join(ROOT, "exports", `${name}.ts`)}${quote}`);
}

function runtimeOf(code: string): "bun" | "deno" | "node" {
  if (code.includes(`"${PACKAGE}/deno"`)) return "deno";
  if (code.includes(`"${PACKAGE}/node"`)) return "node";
  return "bun";
}

function run(runtime: "bun" | "deno" | "node", file: string): { code: number; output: string } {
  let command: string[];
  let cleanup = () => {};
  if (runtime === "bun") command = [BUN, file];
  else if (runtime === "deno") command = [DENO, "run", "-A", file];
  else {
    const bundle = buildForNode(file);
    cleanup = bundle.remove;
    command = ["node", bundle.file];
  }
  try {
    const result = Bun.spawnSync(command, { cwd: ROOT, timeout: 30_000, env: { ...process.env, NO_COLOR: "1" } });
    return { code: result.exitCode ?? 1, output: result.stdout.toString() + result.stderr.toString() };
  } finally {
    cleanup();
  }
}

const examples = collectExamples();
const dir = mkdtempSync(join(tmpdir(), "spoa-examples-"));
const files = examples.map((example, i) => {
  const file = join(dir, `example-${i}.ts`);
  writeFileSync(file, `${localise(example.code)}\nexport {};\n`);
  return file;
});

describe("documented examples", () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("there are examples for the core, every runtime entry, the Valkey, serve and testing entries and the docs", () => {
    const sources = examples.map((e) => `${e.where} ${e.code}`).join("\n");
    const needles = ["mod.ts", `${PACKAGE}/bun"`, `${PACKAGE}/deno"`, `${PACKAGE}/node"`, `${PACKAGE}/valkey"`, `${PACKAGE}/serve"`, `${PACKAGE}/testing"`, "README.md", "docs/library.md"];
    expect(needles.filter((needle) => !sources.includes(needle))).toEqual([]);
  });

  let diagnostics: string[] = [];
  beforeAll(() => {
    const config = ts.getParsedCommandLineOfConfigFile(join(ROOT, "tsconfig.json"), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} });
    const program = ts.createProgram(files, { ...config?.options, noEmit: true });
    diagnostics = ts.getPreEmitDiagnostics(program)
      .filter((d) => d.file !== undefined && files.includes(d.file.fileName))
      .map((d) => {
        const example = examples[files.indexOf(d.file?.fileName ?? "")];
        return `${example.where} "${example.title}": ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`;
      });
  }, 120_000);

  test("every example type-checks against the entries it imports", () => {
    expect(diagnostics).toEqual([]);
  });

  examples.forEach((example, i) => {
    const runtime = runtimeOf(example.code);
    test(`${example.where} — ${example.title} (runs under ${runtime})`, () => {
      const result = run(runtime, files[i]);
      if (result.code !== 0 || result.output.includes("Assertion failed")) {
        throw new Error(`exit ${result.code}:\n${result.output}\n--- example ---\n${example.code}`);
      }
    }, 60_000);
  });
});
