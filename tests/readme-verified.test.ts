// The README's "Verified with" table is generated here from the versions the suite runs, so it
// cannot drift: a version added to (or dropped from) the matrix fails this test until the table
// says so. The installed servers must report the versions the table names, and the e2e files
// behind each ✓ must run every version under every runtime.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { ALL_HAPROXY_VERSIONS, HAPROXY_SOURCES, haproxyCommand } from "./helpers/haproxy.ts";
import { ALL_VALKEY_VERSIONS, VALKEY_SOURCES, valkeyCommand } from "./helpers/valkey.ts";

const ROOT = resolve(import.meta.dir, "..");
const RUNTIMES = ["Bun", "Deno", "binary"];
const START = "<!-- verified-with:start -->";
const END = "<!-- verified-with:end -->";

/** The table as it must appear in README.md between the markers. */
function expectedTable(): string {
  const row = (server: string, from: string) => `| ${server} | ${from} | ${RUNTIMES.map(() => "✓").join(" | ")} |`;
  return [
    `| server | from | ${RUNTIMES.join(" | ")} |`,
    `|${"---|".repeat(2 + RUNTIMES.length)}`,
    ...ALL_HAPROXY_VERSIONS.map((v) => row(`HAProxy ${v}`, HAPROXY_SOURCES[v])),
    ...ALL_VALKEY_VERSIONS.map((v) => row(`Valkey ${v}`, VALKEY_SOURCES[v])),
  ].join("\n");
}

function run(command: string[]): string {
  const result = Bun.spawnSync(command);
  if (result.exitCode !== 0) throw new Error(`${command.join(" ")} failed: ${result.stderr.toString()}`);
  return result.stdout.toString() + result.stderr.toString();
}

describe("README: Verified with", () => {
  test("the table lists exactly the HAProxy and Valkey versions the suite runs", () => {
    const readme = readFileSync(resolve(ROOT, "README.md"), "utf8");
    const start = readme.indexOf(START);
    const end = readme.indexOf(END);
    expect(start).toBeGreaterThan(-1);
    expect(end).toBeGreaterThan(start);
    expect(readme.slice(start + START.length, end).trim()).toBe(expectedTable());
  });

  for (const version of ALL_HAPROXY_VERSIONS) {
    test(`the installed HAProxy ${version} is ${version}.x`, () => {
      const reported = /HAProxy version (\S+)/.exec(run([haproxyCommand(version), "-v"]))?.[1] ?? "";
      console.log(`HAProxy ${version}: ${reported}`);
      expect(reported.startsWith(`${version}.`)).toBe(true);
    });
  }

  for (const version of ALL_VALKEY_VERSIONS) {
    test(`the installed Valkey ${version} is ${version}.x`, () => {
      const reported = /v=(\S+)/.exec(run([valkeyCommand("valkey-server", version), "--version"]))?.[1] ?? "";
      console.log(`Valkey ${version}: ${reported}`);
      expect(reported.startsWith(`${version}.`)).toBe(true);
    });
  }

  test("each ✓ is backed by e2e files that loop over every version and every runtime", () => {
    const haproxyMatrix = ["inmemory-haproxy", "production-unix", "haproxy-reload", "haproxy-idle-close", "seed-shape-haproxy"];
    for (const name of haproxyMatrix) {
      const text = readFileSync(resolve(ROOT, `tests/e2e/${name}.e2e.test.ts`), "utf8");
      // stackMatrix() without a `versions` axis runs every HAProxy version (tests/helpers/stack.ts).
      const everyVersion = text.includes("of HAPROXY_VERSIONS") || (text.includes("stackMatrix(") && !/stackMatrix\(\{[^}]*versions:/.test(text));
      expect({ name, versions: everyVersion, runtimes: text.includes('["bun", "deno", "binary"]') })
        .toEqual({ name, versions: true, runtimes: true });
    }
    const valkey = readFileSync(resolve(ROOT, "tests/e2e/valkey-runtimes.e2e.test.ts"), "utf8");
    expect([valkey.includes("of VALKEY_VERSIONS"), valkey.includes('["bun", "deno", "binary"]')]).toEqual([true, true]);
  });
});
