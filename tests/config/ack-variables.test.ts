import { describe, expect, test } from "bun:test";
import { issuesOf, load, withFile } from "./fixture.ts";

describe("haproxy.variables", () => {
  test("the flag, the env var and the file each choose the ACK's variables", () => {
    expect(load({ flags: { variables: "ip_score" } }).haproxy.variables).toEqual(["ip_score"]);
    expect(load({ env: { SPOA_VARIABLES: "allowed, retry_after" } }).haproxy.variables).toEqual(["allowed", "retry_after"]);
    expect(load(withFile("haproxy:\n  variables: [ip_score, ratelimit]\n")).haproxy.variables).toEqual(["ip_score", "ratelimit"]);
  });

  test("the flag wins over the env var", () => {
    expect(load({ flags: { variables: "ip_score" }, env: { SPOA_VARIABLES: "allowed" } }).haproxy.variables).toEqual(["ip_score"]);
  });

  test("a name the agent does not set is refused with the known names", () => {
    const issues = issuesOf({ flags: { variables: "ip_score,sess.rl.ip_score" } });
    expect(issues.length).toBe(1);
    expect(issues[0].message).toContain('"sess.rl.ip_score" is not a variable the agent sets');
    expect(issues[0].fix).toContain("ip_score, allowed, retry_after");
  });
});
