// The admin endpoint's settings: off by default, a token from env or a file (never shown in
// errors or the redacted config), enabled without a usable token is an error.
import { describe, expect, test } from "bun:test";
import { parseCliArgs } from "../../src/cli/args.ts";
import { redactedConfig } from "../../src/config/schema.ts";
import { issuesOf, load, withFile } from "./fixture.ts";

const TOKEN = "0123456789abcdef-secret-token";

describe("admin settings", () => {
  test("the admin endpoint is off by default, and a token alone does not turn it on", () => {
    expect(load().admin).toEqual({ enabled: false });
    expect(load({ env: { SPOA_ADMIN_TOKEN: TOKEN } }).admin.enabled).toBe(false);
  });

  test("--admin, SPOA_ADMIN=1 and admin.enabled turn it on with the token from SPOA_ADMIN_TOKEN", () => {
    // A switch: `--admin` alone, no value.
    expect(parseCliArgs(["serve", "--admin"]).flags.admin).toBe(true);
    expect(load({ flags: { admin: true }, env: { SPOA_ADMIN_TOKEN: TOKEN } }).admin).toEqual({ enabled: true, token: TOKEN });
    expect(load({ env: { SPOA_ADMIN: "1", SPOA_ADMIN_TOKEN: TOKEN } }).admin.enabled).toBe(true);
    expect(load(withFile("admin:\n  enabled: true\n", { env: { SPOA_ADMIN_TOKEN: TOKEN } })).admin.enabled).toBe(true);
  });

  test("the token file's one trailing newline is dropped; the file wins over a weaker env token", () => {
    const config = load(withFile("admin:\n  enabled: true\n  tokenFile: /run/secrets/admin\n", { files: { "/run/secrets/admin": `${TOKEN}\n` } }));
    expect(config.admin.token).toBe(TOKEN);
    const flagFile = load({
      flags: { admin: true, "admin-token-file": "/t" },
      env: { SPOA_ADMIN_TOKEN: "an-other-token-of-enough-length" },
      files: { "/t": TOKEN },
    });
    expect(flagFile.admin.token).toBe(TOKEN);
  });

  test("enabled without a token names the fix", () => {
    const issues = issuesOf({ flags: { admin: true } });
    expect(issues).toHaveLength(1);
    expect(issues[0].path).toBe("--admin");
    expect(issues[0].message).toContain("needs a token");
    expect(issues[0].fix).toContain("SPOA_ADMIN_TOKEN");
  });

  test("a short token is refused without echoing it", () => {
    const issues = issuesOf({ flags: { admin: true }, env: { SPOA_ADMIN_TOKEN: "hunter2" } });
    expect(issues.map((i) => i.path)).toEqual(["env SPOA_ADMIN_TOKEN"]);
    expect(JSON.stringify(issues)).not.toContain("hunter2");
  });

  test("an unreadable token file and both token sources at once are errors", () => {
    expect(issuesOf({ flags: { admin: true }, env: { SPOA_ADMIN_TOKEN_FILE: "/missing" } })[0].path).toBe("env SPOA_ADMIN_TOKEN_FILE");
    const both = issuesOf({ flags: { admin: true }, env: { SPOA_ADMIN_TOKEN: TOKEN, SPOA_ADMIN_TOKEN_FILE: "/t" }, files: { "/t": TOKEN } });
    expect(both[0].message).toContain("both SPOA_ADMIN_TOKEN and SPOA_ADMIN_TOKEN_FILE");
  });

  test("a token in the config file is refused: it is not a file key", () => {
    const issues = issuesOf(withFile(`admin:\n  enabled: true\n  token: ${TOKEN}\n`, { env: { SPOA_ADMIN_TOKEN: TOKEN } }));
    expect(issues.some((i) => i.path === "admin.token")).toBe(true);
  });

  test("redactedConfig() hides the admin token", () => {
    const config = load({ flags: { admin: true }, env: { SPOA_ADMIN_TOKEN: TOKEN } });
    const text = JSON.stringify(redactedConfig(config));
    expect(text).not.toContain(TOKEN);
    expect(text).toContain(`"enabled":true`);
  });
});
