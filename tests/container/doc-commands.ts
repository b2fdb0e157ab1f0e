// The container commands docs/deployment.md shows a user, read back by the container tests so the
// page and what the tests run cannot drift apart. A block is the ```sh fence after a
// `<!-- container-commands:NAME -->` marker; its commands are split on blanks (they use no quotes).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "../helpers/podman.ts";

/** The commands (as argv) of block `name` in `file` (default docs/deployment.md). */
export function docCommands(name: string, file = "docs/deployment.md"): string[][] {
  const text = readFileSync(join(REPO_ROOT, file), "utf8");
  const marker = `<!-- container-commands:${name} -->`;
  const at = text.indexOf(marker);
  if (at < 0) throw new Error(`${file} has no ${marker}`);
  const fence = /```sh\n([\s\S]*?)```/.exec(text.slice(at));
  if (fence === null) throw new Error(`${file}: no \`\`\`sh block after ${marker}`);
  return fence[1].replace(/\\\n/g, " ").split("\n").map((l) => l.trim()).filter((l) => l !== "" && !l.startsWith("#")).map((l) => l.split(/\s+/));
}

/** The one command of block `name` whose first words are `prefix` (e.g. ["podman", "run"]). */
export function docCommand(name: string, prefix: readonly string[], file?: string): string[] {
  const found = docCommands(name, file).filter((argv) => prefix.every((word, i) => argv[i] === word));
  if (found.length !== 1) throw new Error(`expected one "${prefix.join(" ")}" command in block ${name}, found ${found.length}`);
  return found[0];
}

/** `argv` with every word equal to `from` replaced by `to`. */
export function replaceWord(argv: readonly string[], from: string, to: string): string[] {
  if (!argv.includes(from)) throw new Error(`"${from}" is not a word of: ${argv.join(" ")}`);
  return argv.map((w) => (w === from ? to : w));
}
