// The library's public surface as TypeScript sees it: every export of mod.ts and the subpath
// entries (package.json "exports"), resolved to its declaration, with its JSDoc. Shared by the
// documentation test and the test that runs the documented examples.
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import ts from "typescript";

export const ROOT = resolve(import.meta.dir, "../..");

/** One exported name of one entry. */
export interface ApiExport {
  /** The subpath ("." or "./bun" …) and the name it is exported under. */
  readonly entry: string;
  readonly name: string;
  /** The declaration behind the name (after re-exports and renames). */
  readonly symbol: ts.Symbol;
  readonly declaration: ts.Declaration;
  /** Where it is declared, relative to the repository. */
  readonly file: string;
}

/** An `@example` of the docs: its title and its first ```ts block. */
export interface DocExample {
  readonly where: string;
  readonly title: string;
  readonly code: string;
}

/** The subpath → TypeScript source map of package.json (the "bun" condition; the others are its build). */
export function entries(): Record<string, string> {
  const exports: Record<string, { readonly bun: string }> = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).exports;
  return Object.fromEntries(Object.entries(exports).map(([entry, targets]) => [entry, targets.bun]));
}

/** A program over every entry file, typed with the project's compiler options. */
export function apiProgram(): { program: ts.Program; checker: ts.TypeChecker; exports: ApiExport[] } {
  const config = ts.getParsedCommandLineOfConfigFile(join(ROOT, "tsconfig.json"), {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, "\n"));
    },
  });
  if (config === undefined) throw new Error("cannot read tsconfig.json");
  const files = Object.values(entries()).map((file) => join(ROOT, file));
  const program = ts.createProgram(files, config.options);
  const checker = program.getTypeChecker();
  const exports: ApiExport[] = [];
  for (const [entry, file] of Object.entries(entries())) {
    const source = program.getSourceFile(join(ROOT, file));
    const module = source && checker.getSymbolAtLocation(source);
    if (module === undefined) throw new Error(`${file} is not a module`);
    for (const exported of checker.getExportsOfModule(module)) {
      const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
      const declaration = symbol.declarations?.[0];
      if (declaration === undefined) throw new Error(`${entry} ${exported.name} has no declaration`);
      exports.push({
        entry,
        name: exported.name,
        symbol,
        declaration,
        file: declaration.getSourceFile().fileName.slice(ROOT.length + 1),
      });
    }
  }
  return { program, checker, exports };
}

/** The text of a JSDoc tag (TypeScript hands it over in display parts). */
export function tagText(tag: ts.JSDocTagInfo): string {
  return (tag.text ?? []).map((part) => part.text).join("");
}

/** Splits an `@example` body into its title line and its first fenced TypeScript block. */
export function parseExample(where: string, body: string): DocExample | { readonly where: string; readonly problem: string } {
  const fence = /```(?:ts|typescript)\n([\s\S]*?)```/.exec(body);
  const title = body.slice(0, fence?.index ?? body.length).trim();
  if (fence === null) return { where, problem: "an @example without a ```ts block" };
  if (title === "") return { where, problem: "an @example without a title" };
  return { where, title, code: fence[1] };
}

/** The `@example`s of a file's `@module` comment, read from the text. */
export function moduleExamples(file: string): ReturnType<typeof parseExample>[] {
  const text = readFileSync(join(ROOT, file), "utf8");
  const comment = /\/\*\*([\s\S]*?)\*\//.exec(text);
  if (comment === null || !comment[1].includes("@module")) return [];
  const body = comment[1].split("\n").map((line) => line.replace(/^\s*\* ?/, "")).join("\n");
  return body.split(/^@example\s*/m).slice(1).map((part) => parseExample(`${file} (module)`, part.split(/^@\w+/m)[0]));
}

/** The ```ts blocks of a Markdown text, from `heading` to the next heading of its level (or all). */
export function markdownExamples(file: string, heading?: string): DocExample[] {
  let text = readFileSync(join(ROOT, file), "utf8");
  if (heading !== undefined) {
    const start = text.indexOf(`\n${heading}\n`);
    if (start < 0) return [];
    const level = heading.split(" ")[0];
    const next = text.indexOf(`\n${level} `, start + heading.length + 2);
    text = text.slice(start, next < 0 ? undefined : next);
  }
  return [...text.matchAll(/```ts\n([\s\S]*?)```/g)].map((match, i) => ({ where: file, title: `block ${i + 1}`, code: match[1] }));
}
