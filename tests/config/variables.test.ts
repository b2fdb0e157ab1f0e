import { describe, expect, test } from "bun:test";
import { variableName, variableProblems } from "../../src/config/variables.ts";
import { AGENT_VARIABLES } from "../../src/ratelimit/answer/variable-names.ts";
import { issuesOf, load, withFile } from "./fixture.ts";

describe("agent variables", () => {
  test("the default prefix gives valid names for every variable", () => {
    expect(variableProblems("rl")).toEqual([]);
    expect(AGENT_VARIABLES.map((v) => variableName(v, "rl"))).toContain("txn.rl.shadow_denied");
  });

  test("a varPrefix that makes a name longer than 63 bytes is an error naming haproxy.varPrefix", () => {
    const prefix = "p".repeat(50);
    const issues = issuesOf(withFile(`haproxy:\n  varPrefix: ${prefix}\n`));
    expect(issues.length).toBeGreaterThan(0);
    expect(issues.every((i) => i.path === "haproxy.varPrefix")).toBe(true);
    expect(issues[0].message).toContain("more than HAProxy's 63");
  });

  test("the longest prefix that fits is accepted", () => {
    // txn.<p>.ratelimit_policy is the longest name: 4 + p + 17 ≤ 63.
    expect(load({ flags: { "var-prefix": "p".repeat(42) } }).haproxy.varPrefix).toHaveLength(42);
    expect(issuesOf({ flags: { "var-prefix": "p".repeat(43) } })[0].path).toBe("--var-prefix");
  });
});
