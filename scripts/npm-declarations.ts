// After `tsc -p tsconfig.build.json`: the emitted .js files import ".js", but declaration files
// keep the sources' ".ts" specifiers, which name no file in dist/npm. Point them at the .js
// (TypeScript then reads the .d.ts beside it).
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

const OUT = resolve(import.meta.dir, "../dist/npm");
const RELATIVE_TS = /(\bfrom\s+|\bimport\(\s*)(["'])(\.{1,2}\/[^"']+)\.ts\2/g;

function rewrite(dir: string): number {
  let count = 0;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) count += rewrite(path);
    else if (name.endsWith(".d.ts")) {
      const text = readFileSync(path, "utf8");
      const next = text.replace(RELATIVE_TS, "$1$2$3.js$2");
      if (next !== text) writeFileSync(path, next);
      count++;
    }
  }
  return count;
}

console.log(`npm-declarations: ${rewrite(OUT)} declaration files point at .js`);
