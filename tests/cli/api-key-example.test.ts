// The api-key example: HAProxy's `sha2(256),hex` writes UPPER-case hex, so a lower-case-only
// regex never matches. The README example must work as written, and check-config warns when a
// regex on api_key accepts lower-case hex only.
import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseDocument } from "yaml";
import { parseCliArgs } from "../../src/cli/args.ts";
import { checkConfigCommand } from "../../src/cli/check-config.ts";

const ROOT = resolve(import.meta.dir, "../..");
const README = readFileSync(resolve(ROOT, "README.md"), "utf8");
/** What HAProxy sends for `X-Api-Key: secret` through `req.hdr(x-api-key),sha2(256),hex`. */
const HAPROXY_DIGEST = createHash("sha256").update("secret").digest("hex").toUpperCase();

function checkConfig(policy: string) {
  let stdout = "";
  let stderr = "";
  const code = checkConfigCommand(parseCliArgs(["check-config", "/p.yaml"]), {
    env: {},
    readFile: () => policy,
    stdout: (s) => (stdout += s),
    stderr: (s) => (stderr += s),
  });
  return { code, stdout, stderr };
}

const policyWith = (regex: string) => `limits:\n  - name: api-key\n    match: { api_key: { regex: ${JSON.stringify(regex)} } }\n    key: ["arg:api_key"]\n    rate: 6000/m\n`;

describe("the api-key example", () => {
  test("the README's policy regex matches what HAProxy sends", () => {
    const yamlBlock = /```yaml\n([\s\S]*?)```/.exec(README.slice(README.indexOf("## Policies")))?.[1] ?? "";
    const limits = parseDocument(yamlBlock).toJS().limits as { name: string; match?: { api_key?: { regex?: string } } }[];
    const apiKey = limits.find((l) => l.match?.api_key?.regex !== undefined);
    expect(apiKey).toBeDefined();
    expect(new RegExp(apiKey!.match!.api_key!.regex!).test(HAPROXY_DIGEST)).toBe(true);
  });

  test("the README's spoe-message snippet sends api_key as the shipped SPOE file does", () => {
    const shipped = readFileSync(resolve(ROOT, "deploy/haproxy/spoe-ratelimit.conf"), "utf8");
    const shippedArg = /api_key=\S+/.exec(shipped)?.[0];
    expect(shippedArg).toBe("api_key=req.hdr(x-api-key),sha2(256),hex");
    const snippet = README.slice(README.indexOf("spoe-message check-rate"));
    expect(snippet.slice(0, snippet.indexOf("```"))).toContain(shippedArg!);
  });

  test("check-config warns (and still exits 0) when a regex on api_key accepts lower-case hex only", () => {
    const run = checkConfig(policyWith("^[0-9a-f]{64}$"));
    expect(run.code).toBe(0);
    expect(run.stderr).toContain("limits[0].match.api_key.regex");
    expect(run.stderr).toContain("upper-case");
    expect(run.stderr).toContain("[0-9A-F]");
  });

  test("check-config stays quiet for regexes that accept HAProxy's digest, or that are not about hex", () => {
    for (const regex of ["^[0-9A-F]{64}$", "^[0-9a-fA-F]{64}$", "^sk_live_"]) expect(checkConfig(policyWith(regex)).stderr).toBe("");
  });
});
