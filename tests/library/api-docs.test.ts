// The library's documentation contract, on every export of every entry: a doc comment and a
// titled @example; for functions, constructors and public methods an @param per
// parameter and @returns unless nothing is returned; and every type a public signature
// mentions is itself exported, so a user can name it.
import { beforeAll, describe, expect, test } from "bun:test";
import ts from "typescript";
import { type ApiExport, apiProgram, parseExample, tagText } from "./api-surface.ts";

let checker: ts.TypeChecker;
let exports: ApiExport[];
beforeAll(() => {
  ({ checker, exports } = apiProgram());
}, 60_000);

const label = (e: ApiExport) => `${e.entry} ${e.name} (${e.file})`;

function returnsNothing(signature: ts.Signature): boolean {
  const type = checker.getReturnTypeOfSignature(signature);
  const text = checker.typeToString(type);
  return text === "void" || text === "never" || text === "Promise<void>" || text === "undefined";
}

/** Missing @param/@returns of one function-like declaration, as "what: problem". */
function signatureProblems(what: string, declaration: ts.SignatureDeclaration): string[] {
  const problems: string[] = [];
  const tags = ts.getJSDocTags(declaration);
  const params = new Set(tags.filter(ts.isJSDocParameterTag).map((tag) => tag.name.getText()));
  for (const parameter of declaration.parameters) {
    const name = parameter.name.getText();
    if (!params.has(name)) problems.push(`${what}: no @param ${name}`);
  }
  const signature = checker.getSignatureFromDeclaration(declaration);
  const returns = tags.some((tag) => tag.tagName.text === "returns" || tag.tagName.text === "return");
  if (!ts.isConstructorDeclaration(declaration) && signature !== undefined && !returnsNothing(signature) && !returns) {
    problems.push(`${what}: no @returns`);
  }
  return problems;
}

function isPublicMember(member: ts.ClassElement): boolean {
  if (member.name !== undefined && ts.isPrivateIdentifier(member.name)) return false;
  const flags = ts.getCombinedModifierFlags(member as ts.Declaration);
  return (flags & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) === 0;
}

/** The signatures a user calls: a function's overloads, or a class's constructor and public methods. */
function callable(e: ApiExport): [string, ts.SignatureDeclaration][] {
  const out: [string, ts.SignatureDeclaration][] = [];
  for (const declaration of e.symbol.declarations ?? []) {
    if (ts.isFunctionDeclaration(declaration)) out.push([label(e), declaration]);
    if (ts.isVariableDeclaration(declaration) && declaration.initializer !== undefined && ts.isArrowFunction(declaration.initializer)) {
      out.push([label(e), declaration.initializer]);
    }
    if (!ts.isClassDeclaration(declaration)) continue;
    for (const member of declaration.members) {
      if (!isPublicMember(member)) continue;
      if (ts.isConstructorDeclaration(member) && member.parameters.length > 0) out.push([`${label(e)} constructor`, member]);
      if (ts.isMethodDeclaration(member)) out.push([`${label(e)}.${member.name.getText()}`, member]);
    }
  }
  return out;
}

/** Our own named types a declaration's public part mentions (bodies and private members skipped). */
function mentionedTypes(declaration: ts.Node): ts.Symbol[] {
  const found: ts.Symbol[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isBlock(node)) return;
    if ((ts.isPropertyDeclaration(node) || ts.isMethodDeclaration(node) || ts.isGetAccessor(node)) && !isPublicMember(node)) return;
    if (ts.isVariableDeclaration(node)) {
      if (node.type !== undefined) visit(node.type);
      return;
    }
    if (ts.isPropertyDeclaration(node) && node.initializer !== undefined && node.type === undefined) return;
    if (ts.isTypeReferenceNode(node) || ts.isExpressionWithTypeArguments(node)) {
      const at = ts.isTypeReferenceNode(node) ? node.typeName : node.expression;
      let symbol = checker.getSymbolAtLocation(at);
      if (symbol !== undefined && symbol.flags & ts.SymbolFlags.Alias) symbol = checker.getAliasedSymbol(symbol);
      const file = symbol?.declarations?.[0]?.getSourceFile().fileName ?? "";
      if (symbol !== undefined && !(symbol.flags & ts.SymbolFlags.TypeParameter) && !file.includes("node_modules")) {
        if (!file.endsWith(".d.ts")) found.push(symbol);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(declaration);
  return found;
}

describe("the library's documented surface", () => {
  test("the entries export something to check", () => {
    expect(exports.filter((e) => e.entry === ".").length).toBeGreaterThan(50);
    for (const entry of ["./bun", "./deno", "./node", "./valkey", "./serve", "./testing"]) expect(exports.some((e) => e.entry === entry)).toBe(true);
  });

  test("every export has a doc comment", () => {
    const missing = exports.filter((e) => ts.displayPartsToString(e.symbol.getDocumentationComment(checker)).trim() === "");
    expect(missing.map(label)).toEqual([]);
  });

  test("every export has a titled @example with a ```ts block", () => {
    const problems: string[] = [];
    for (const e of exports) {
      const examples = e.symbol.getJsDocTags(checker).filter((tag) => tag.name === "example");
      if (examples.length === 0) problems.push(`${label(e)}: no @example`);
      for (const tag of examples) {
        const parsed = parseExample(label(e), tagText(tag));
        if ("problem" in parsed) problems.push(`${label(e)}: ${parsed.problem}`);
      }
    }
    expect(problems).toEqual([]);
  });

  test("functions, constructors and public methods document each @param and what they @return", () => {
    const problems = exports.flatMap((e) => callable(e).flatMap(([what, declaration]) => signatureProblems(what, declaration)));
    expect([...new Set(problems)]).toEqual([]);
  });

  test("every type a public signature mentions is exported by the same entry or the core", () => {
    const exported = (entry: string) =>
      new Set(exports.filter((e) => e.entry === entry || e.entry === ".").map((e) => e.symbol));
    const problems: string[] = [];
    for (const e of exports) {
      const visible = exported(e.entry);
      for (const declaration of e.symbol.declarations ?? []) {
        for (const symbol of mentionedTypes(declaration)) {
          if (!visible.has(symbol)) problems.push(`${label(e)} mentions ${symbol.name}`);
        }
      }
    }
    expect([...new Set(problems)]).toEqual([]);
  });
});
