/**
 * Prints docs/configuration.md, or writes it with `--write`:
 * `bun run scripts/gen-config-docs.ts --write`.
 * @module
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { renderConfigReference } from "../src/config/reference.ts";

const text = renderConfigReference();
if (process.argv.includes("--write")) {
  writeFileSync(join(import.meta.dirname, "..", "docs", "configuration.md"), text);
} else {
  process.stdout.write(text);
}
