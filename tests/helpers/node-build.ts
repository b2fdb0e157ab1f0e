// Node 20 runs no TypeScript: bundle an entry for it with `bun build --target=node` into a
// temporary directory, then run the output with the system `node`. The "bun" export condition
// resolves this package's own name to its TypeScript sources, so examples need no build first.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "../..");
const BUN = resolve(ROOT, "node_modules/.bin/bun");

/** A bundled script and how to remove it. */
export interface NodeBundle {
  readonly file: string;
  remove(): void;
}

/** Bundles `entry` (relative to the repo root) for Node; throws with bun's output on failure. */
export function buildForNode(entry: string): NodeBundle {
  const dir = mkdtempSync(join(tmpdir(), "spoa-node-"));
  const file = join(dir, "main.mjs");
  const run = Bun.spawnSync([BUN, "build", entry, "--target=node", "--format=esm", "--conditions=bun", `--outfile=${file}`], { cwd: ROOT });
  if (run.exitCode !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`bun build ${entry} failed: ${run.stderr.toString()}${run.stdout.toString()}`);
  }
  return { file, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
