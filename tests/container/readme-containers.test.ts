// README's container section and its "Verified with" rows for the image and the deployment forms
// cannot drift: the commands are docs/deployment.md's, each row names a test file that exists, and
// the tool versions it names are the ones the test environment installed.
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { PODMAN_ENV, podmanUnavailable, REPO_ROOT } from "../helpers/podman.ts";
import { docCommands } from "./doc-commands.ts";

const START = "<!-- verified-with-containers:start -->";
const END = "<!-- verified-with-containers:end -->";

/** The rows of the README's container table: form, tools, test name. */
function rows(): { readonly form: string; readonly tools: string; readonly test: string }[] {
  const readme = readFileSync(join(REPO_ROOT, "README.md"), "utf8");
  const block = readme.slice(readme.indexOf(START) + START.length, readme.indexOf(END));
  return block.trim().split("\n").slice(2).map((line) => {
    const [form, tools, name] = line.split("|").slice(1, -1).map((c) => c.trim());
    return { form, tools, test: name.replaceAll("`", "") };
  });
}

/** The first x.y[.z] version in `text`. */
function versionIn(text: string): string {
  return /(\d+\.\d+(?:\.\d+)?)/.exec(text)?.[1] ?? "";
}

function output(argv: string[]): string {
  const result = Bun.spawnSync(argv, { env: { ...PODMAN_ENV } });
  return result.stdout.toString() + result.stderr.toString();
}

const unavailable = podmanUnavailable();

describe("README: the container section", () => {
  test("shows docs/deployment.md's podman commands", () => {
    expect(docCommands("readme", "README.md")).toEqual(docCommands("podman"));
  });

  test("each row of the container table names a test file of tests/container/", () => {
    const table = rows();
    expect(table.length).toBeGreaterThanOrEqual(7);
    for (const row of table) expect({ row: row.form, exists: existsSync(join(REPO_ROOT, `tests/container/${row.test}.test.ts`)) }).toEqual({ row: row.form, exists: true });
  });

  test.skipIf(unavailable !== undefined)(`names the versions the test environment installed${unavailable === undefined ? "" : ` (skipped: ${unavailable})`}`, () => {
    const installed: Record<string, string> = {
      "podman": versionIn(output(["podman", "--version"])),
      "runc": versionIn(output(["runc", "--version"])),
      "podman-compose": versionIn(/podman-composer? version\s+\S+/.exec(output(["podman-compose", "--version"]))?.[0] ?? ""),
      "podman kube play": versionIn(output(["podman", "--version"])),
      "qemu-aarch64-static": versionIn(output(["qemu-aarch64-static", "--version"])),
    };
    const cgroup = existsSync("/sys/fs/cgroup/memory/memory.limit_in_bytes") ? "cgroup v1" : "cgroup v2";
    for (const row of rows()) {
      for (const [tool, version] of Object.entries(installed)) {
        const named = new RegExp(`(?:^|, )${tool.replaceAll(" ", "\\s")} (\\d[\\d.]*)`).exec(row.tools)?.[1];
        if (named !== undefined) expect({ row: row.form, tool, installed: version }).toEqual({ row: row.form, tool, installed: expect.stringMatching(new RegExp(`^${named.replaceAll(".", "\\.")}`)) });
      }
      if (row.tools.includes("cgroup")) expect(row.tools).toContain(cgroup);
    }
  });
});
