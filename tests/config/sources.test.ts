import { describe, expect, test } from "bun:test";
import { issuesOf } from "./fixture.ts";
import { withFile } from "./fixture.ts";

describe("config file keys", () => {
  test("an unknown key is an error with a did-you-mean for a sibling", () => {
    const issues = issuesOf(withFile("store:\n  valkey:\n    deadlinMs: 5\n"));
    expect(issues).toEqual([{ path: "store.valkey.deadlinMs", message: `unknown key "deadlinMs"`, fix: `did you mean "deadlineMs"?` }]);
  });

  test("a snake_case key suggests its camelCase name", () => {
    expect(issuesOf(withFile("log_level: info\n"))[0].fix).toBe(`did you mean "logLevel"?`);
  });

  test("a key at the wrong level suggests its full path", () => {
    expect(issuesOf(withFile("maxKeys: 10\n"))[0].fix).toBe(`did you mean "store.memory.maxKeys"?`);
  });

  test("a password in the file is refused with a fix", () => {
    const issues = issuesOf(withFile("store:\n  valkey:\n    url: redis://v:6379\n    password: hunter2\n"));
    expect(issues).toEqual([{
      path: "store.valkey.password",
      message: "a password may not be written in the config file",
      fix: "use passwordFile (a mounted secret) or the VALKEY_PASSWORD env var",
    }]);
  });

  test("a section that is not a map is an error", () => {
    expect(issuesOf(withFile("store: memory\n"))[0].path).toBe("store");
  });

  test("a socketMode YAML read as a number asks for quotes", () => {
    const issues = issuesOf(withFile("socketMode: 0660\n"));
    expect(issues[0].path).toBe("socketMode");
    expect(issues[0].fix).toContain(`"0660"`);
  });
});
