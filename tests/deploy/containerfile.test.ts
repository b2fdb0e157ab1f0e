// The Containerfile's structure: a Bun 1.4.5 build stage that compiles one executable, a
// distroless/cc runtime without USER (any UID), the ports, the entrypoint, and nothing that needs
// a writable root. The base images are build arguments defaulting to the upstream images (the
// container tests, tests/container/, build and run this file with local equivalents).
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { distrolessCcSonames, missingFromDistrolessCc } from "./distroless-libs.ts";

const ROOT = resolve(import.meta.dir, "../..");
const TEXT = readFileSync(resolve(ROOT, "Containerfile"), "utf8");

/** Instructions with continuation lines joined and comments dropped. */
function instructions(text: string): { readonly op: string; readonly args: string }[] {
  const joined = text.split("\n").filter((l) => !l.trimStart().startsWith("#")).join("\n").replace(/\\\n/g, " ");
  return joined.split("\n").map((l) => l.trim()).filter((l) => l !== "").map((l) => {
    const space = l.indexOf(" ");
    return { op: l.slice(0, space).toUpperCase(), args: l.slice(space + 1).trim() };
  });
}

const INSTRUCTIONS = instructions(TEXT);
const stages = INSTRUCTIONS.filter((i) => i.op === "FROM").map((i) => i.args);
const lastFrom = INSTRUCTIONS.map((i) => i.op).lastIndexOf("FROM");
const finalStage = INSTRUCTIONS.slice(lastFrom);

describe("Containerfile", () => {
  test("has a Bun 1.4.5 build stage and a distroless cc-debian12 runtime stage, each a build argument defaulting to the upstream image", () => {
    expect(stages).toEqual(["${BUN_IMAGE} AS build", "${RUNTIME_IMAGE} AS runtime"]);
    const args = new Map(INSTRUCTIONS.slice(0, INSTRUCTIONS.findIndex((i) => i.op === "FROM")).filter((i) => i.op === "ARG").map((i) => i.args.split("=") as [string, string]));
    expect(args.get("BUN_IMAGE")).toMatch(/^(docker\.io\/)?oven\/bun:1\.4\.5$/);
    expect(args.get("RUNTIME_IMAGE")).toMatch(/^gcr\.io\/distroless\/cc-debian12(:\S+|@sha256:[0-9a-f]{64})?$/);
  });

  test("the Bun version of the build stage is the one package.json pins", () => {
    const pkg = JSON.parse(readFileSync(resolve(ROOT, "package.json"), "utf8")) as { devDependencies: Record<string, string> };
    expect(TEXT).toContain(`oven/bun:${pkg.devDependencies.bun}`);
  });

  test("installs from the lockfile and compiles one executable with the release script's linux-x64 recipe", () => {
    const runs = INSTRUCTIONS.filter((i) => i.op === "RUN").map((i) => i.args).join("\n");
    expect(runs).toMatch(/bun install --frozen-lockfile|npm ci/);
    // scripts/release.ts builds with package.json's "compile" flags (bun build --compile … src/cli/main.ts).
    expect(runs).toContain("bun scripts/release.ts linux-x64 --out /out");
    expect(runs).toContain("/out/spoa-gcra-*-linux-x64 version");
    const pkg = JSON.parse(readFileSync(resolve(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> };
    expect(pkg.scripts.compile).toMatch(/^bun build --compile .*src\/cli\/main\.ts/);
    expect(pkg.scripts.release).toBe("bun run scripts/release.ts");
  });

  test("the runtime stage has no USER, so it runs under any UID", () => {
    expect(INSTRUCTIONS.some((i) => i.op === "USER")).toBe(false);
  });

  test("the runtime stage copies only the executable and writes nothing at run time", () => {
    const copies = finalStage.filter((i) => i.op === "COPY");
    expect(copies).toHaveLength(1);
    expect(copies[0].args).toContain("--from=build");
    expect(copies[0].args).toMatch(/\/out\/spoa-gcra-\*-linux-x64 \/spoa-gcra$/);
    expect(finalStage.some((i) => i.op === "RUN" || i.op === "VOLUME")).toBe(false);
  });

  test("exposes the SPOP and metrics ports and enters serve", () => {
    const exposed = finalStage.filter((i) => i.op === "EXPOSE").flatMap((i) => i.args.split(/\s+/));
    expect(exposed.sort()).toEqual(["12345", "12346"]);
    const entrypoint = finalStage.find((i) => i.op === "ENTRYPOINT");
    expect(JSON.parse(entrypoint?.args ?? "null")).toEqual(["/spoa-gcra", "serve"]);
    const env = finalStage.filter((i) => i.op === "ENV").map((i) => i.args).join(" ");
    expect(env).toContain("SPOE_ADDR=0.0.0.0:12345");
  });

  test("every file the build stage copies exists in the repository", () => {
    const build = INSTRUCTIONS.slice(0, lastFrom);
    for (const copy of build.filter((i) => i.op === "COPY")) {
      const parts = copy.args.split(/\s+/).filter((p) => !p.startsWith("--"));
      for (const source of parts.slice(0, -1)) expect({ source, exists: existsSync(resolve(ROOT, source)) }).toEqual({ source, exists: true });
    }
  });
});

describe("distroless-libs", () => {
  test("lists glibc, libgcc_s and libstdc++ sonames", () => {
    const libs = distrolessCcSonames();
    for (const soname of ["libc.so.6", "libm.so.6", "libpthread.so.0", "libdl.so.2", "librt.so.1", "libgcc_s.so.1", "libstdc++.so.6", "libssl.so.3"]) {
      expect(libs.has(soname)).toBe(true);
    }
  });

  test("missingFromDistrolessCc() reads ldd output and names what the image lacks", () => {
    const ldd = [
      "\tlinux-vdso.so.1 (0x00007ffd)",
      "\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f)",
      "\tlibz.so.1 => /lib/x86_64-linux-gnu/libz.so.1 (0x00007f)",
      "\t/lib64/ld-linux-x86-64.so.2 (0x00007f)",
    ].join("\n");
    expect(missingFromDistrolessCc(ldd)).toEqual(["libz.so.1"]);
    expect(missingFromDistrolessCc("\tstatically linked\n")).toEqual([]);
  });
});
