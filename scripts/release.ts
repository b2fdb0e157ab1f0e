// `npm run release`: the single executables a user downloads, one per platform, built with the
// flags of package.json's "compile" script (one way to build) and Bun's cross-compile targets
// (Bun fetches each target's runtime as an npm package, so the npm registry is all it needs):
//
//   dist/release/spoa-gcra-<version>-linux-x64         glibc, x86-64 (the image runs this build)
//   dist/release/spoa-gcra-<version>-linux-arm64       glibc, aarch64
//   dist/release/spoa-gcra-<version>-linux-x64-musl    musl (Alpine); needs libstdc++ there
//   dist/release/spoa-gcra-<version>-linux-arm64-musl
//   dist/release/SHA256SUMS                            `sha256sum -c SHA256SUMS` checks them
//
// Usage: bun scripts/release.ts [TARGET…] [--out DIR]   (default: every target, dist/release)
// The Containerfile's build stage runs it for linux-x64, so the image and the download come from
// the same recipe. (Bun's compile is not byte-reproducible: two builds of the same sources differ.)
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { parseArgs } from "node:util";

const ROOT = resolve(import.meta.dir, "..");

/** Our target name → Bun's `--target`. */
export const RELEASE_TARGETS = {
  "linux-x64": "bun-linux-x64",
  "linux-arm64": "bun-linux-arm64",
  "linux-x64-musl": "bun-linux-x64-musl",
  "linux-arm64-musl": "bun-linux-arm64-musl",
} as const;
export type ReleaseTarget = keyof typeof RELEASE_TARGETS;

interface Package {
  readonly version: string;
  readonly scripts: Readonly<Record<string, string>>;
}

/** The `bun build` flags and entry point of package.json's "compile" script, without its --outfile. */
export function compileCommand(script: string): { readonly flags: string[]; readonly entry: string } {
  const words = script.trim().split(/\s+/);
  if (words[0] !== "bun" || words[1] !== "build") throw new Error(`the "compile" script is not a bun build: ${script}`);
  const flags: string[] = [];
  let entry: string | undefined;
  for (let i = 2; i < words.length; i++) {
    if (words[i] === "--outfile") i++;
    else if (words[i].startsWith("--")) flags.push(words[i]);
    else entry = words[i];
  }
  if (entry === undefined || !flags.includes("--compile")) throw new Error(`the "compile" script has no entry or no --compile: ${script}`);
  return { flags, entry };
}

/** The file name a release of `target` has. */
export function releaseName(version: string, target: ReleaseTarget): string {
  return `spoa-gcra-${version}-${target}`;
}

/** SHA256SUMS lines (`<hex>  <name>`, what `sha256sum -c` reads) of `files`. */
export function sha256Sums(files: readonly string[]): string {
  return files.map((f) => `${createHash("sha256").update(readFileSync(f)).digest("hex")}  ${basename(f)}\n`).join("");
}

async function main(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: [...argv], options: { out: { type: "string" } }, allowPositionals: true });
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as Package;
  const unknown = positionals.filter((t) => !(t in RELEASE_TARGETS));
  if (unknown.length > 0) {
    console.error(`unknown target ${unknown.join(", ")}; targets: ${Object.keys(RELEASE_TARGETS).join(", ")}`);
    return 2;
  }
  const targets = (positionals.length > 0 ? positionals : Object.keys(RELEASE_TARGETS)) as ReleaseTarget[];
  const out = resolve(values.out ?? join(ROOT, "dist/release"));
  const { flags, entry } = compileCommand(pkg.scripts.compile ?? "");
  mkdirSync(out, { recursive: true });
  const files: string[] = [];
  for (const target of targets) {
    const file = join(out, releaseName(pkg.version, target));
    const started = performance.now();
    const build = Bun.spawn([process.execPath, "build", ...flags, `--target=${RELEASE_TARGETS[target]}`, entry, "--outfile", file], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
    const [stdout, stderr, code] = await Promise.all([new Response(build.stdout).text(), new Response(build.stderr).text(), build.exited]);
    if (code !== 0) {
      console.error(`${target}: bun build exited ${code}\n${stderr}${stdout}`);
      return 1;
    }
    // The source map is a build by-product, not part of the download.
    rmSync(`${file}.map`, { force: true });
    files.push(file);
    console.log(`${basename(file)}  ${(statSync(file).size / 2 ** 20).toFixed(1)} MiB  (${((performance.now() - started) / 1000).toFixed(1)} s)`);
  }
  const sums = sha256Sums(files);
  writeFileSync(join(out, "SHA256SUMS"), sums);
  process.stdout.write(`SHA256SUMS (${out}):\n${sums}`);
  return 0;
}

if (import.meta.main) process.exit(await main(process.argv.slice(2)));
