// How configuration mistakes read: once, complete, and ending in something a person can act on.
import { describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { ConfigError, type ConfigIssue } from "../../src/config/errors.ts";
import { loadConfig } from "../../src/config/load.ts";

const ROOT = resolve(import.meta.dir, "../..");
const dir = mkdtempSync(join(tmpdir(), "spoa-config-messages-"));

function issuesOf(flags: Record<string, string>, file?: string): readonly ConfigIssue[] {
  const path = join(dir, "policy.yaml");
  if (file !== undefined) writeFileSync(path, file);
  try {
    loadConfig({ args: { flags: file === undefined ? flags : { ...flags, config: path } }, env: {}, readFile: (p) => require("node:fs").readFileSync(p, "utf8") });
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
  return [];
}

describe("configuration messages", () => {
  test("serve says \"invalid configuration\" once", () => {
    const run = Bun.spawnSync([resolve(ROOT, "node_modules/.bin/bun"), "run", resolve(ROOT, "src/cli/main.ts"), "serve", "--listen", "nonsense", "--metrics", "off"], {
      env: { PATH: process.env.PATH ?? "" },
    });
    const stderr = run.stderr.toString();
    expect(run.exitCode).toBe(2);
    expect(stderr.match(/invalid configuration|configuration invalid/gi)?.length).toBe(1);
    expect(stderr).toContain("--listen");
  });

  test("a port above 65535 is called out of range", () => {
    const [listen] = issuesOf({ listen: "127.0.0.1:99999" });
    expect(listen.path).toBe("--listen");
    expect(listen.message).toContain("port 99999 is out of range");
    const [metrics] = issuesOf({ metrics: "0.0.0.0:70000" });
    expect(metrics.message).toContain("port 70000 is out of range");
  });

  test("every bad CIDR of a list is reported, not only the first", () => {
    const issues = issuesOf({ "trusted-proxies": "10.0.0.0/33,192.168.0.0/16,1.2.3.4/99" });
    const text = issues.map((i) => i.message).join("\n");
    expect(text).toContain('"10.0.0.0/33"');
    expect(text).toContain('"1.2.3.4/99"');
    expect(text).not.toContain('"192.168.0.0/16"');
  });

  test("a YAML syntax error ends in words, not a dangling colon, and shows the line", () => {
    const [issue] = issuesOf({}, "limits:\n  - name: a\n    rate: 10/s\n    match:\n      path: { prefix: /x }\n   key: [identity]\n");
    expect(issue.path).toMatch(/policy\.yaml:6:\d+$/);
    expect(issue.message).toStartWith("invalid YAML: ");
    expect(issue.message).not.toMatch(/:\s*$/);
    expect(issue.message).toContain("key: [identity]");
  });
});
