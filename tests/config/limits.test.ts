import { describe, expect, test } from "bun:test";
import { issuesOf, load, withFile } from "./fixture.ts";

const limitsFile = (items: string) => withFile(`limits:\n${items}`);

describe("limits[] parsing", () => {
  test("a full limit becomes a LimitDefinition with derived GCRA parameters", () => {
    const config = load(limitsFile(`
  - name: login
    rate: 10/1m
    burst: 5
    match:
      path: { prefix: /login }
      method: { in: [POST, PUT] }
      ip_src: { cidr: ["10.0.0.0/8", "2001:db8::1"] }
      host: { regex: "^api\\\\." }
    key: [identity, "arg:host", { pathPrefix: path, segments: 2 }]
    cost: { arg: cost, default: 1, max: 5 }
    shadow: true
`));
    expect(config.limits).toEqual([{
      name: "login",
      messages: ["check-rate"],
      match: [
        { arg: "path", kind: "prefix", value: "/login" },
        { arg: "method", kind: "in", values: ["POST", "PUT"] },
        { arg: "ip_src", kind: "cidr", cidrs: ["10.0.0.0/8", "2001:db8::1/128"] },
        { arg: "host", kind: "regex", pattern: "^api\\." },
      ],
      key: [{ kind: "identity" }, { kind: "arg", arg: "host" }, { kind: "path-prefix", arg: "path", segments: 2 }],
      count: 10,
      periodSeconds: 60,
      burst: 5,
      params: { emissionIntervalUs: 6_000_000, burstToleranceUs: 24_000_000 },
      cost: { kind: "arg", arg: "cost", default: 1, max: 5 },
      shadow: true,
    }]);
  });

  test("burst defaults to the rate's count", () => {
    const [limit] = load(limitsFile("  - { name: a, rate: 100/s }\n")).limits;
    expect(limit.burst).toBe(100);
    expect(limit.params).toEqual({ emissionIntervalUs: 10_000, burstToleranceUs: 990_000 });
  });

  test("a bad rate names limits[i].rate with the expected form", () => {
    const issues = issuesOf(limitsFile("  - { name: a, rate: 1/s }\n  - { name: b, rate: 1/s }\n  - { name: c, rate: 100 per s }\n"));
    expect(issues).toHaveLength(1);
    expect(`${issues[0].path}: ${issues[0].message}`).toBe(`limits[2].rate: expected "<count>/<unit>", got "100 per s"`);
  });

  test("a bad CIDR in a matcher names its index", () => {
    const issues = issuesOf(limitsFile("  - { name: a, rate: 1/s, match: { ip_src: { cidr: [10.0.0.0/8, 10.0.0.0/33] } } }\n"));
    expect(issues[0].path).toBe("limits[0].match.ip_src.cidr[1]");
    expect(issues[0].message).toContain(`invalid CIDR "10.0.0.0/33"`);
  });

  test("a regex that does not compile is an error", () => {
    const issues = issuesOf(limitsFile("  - { name: a, rate: 1/s, match: { path: { regex: \"(unclosed\" } } }\n"));
    expect(issues[0].path).toBe("limits[0].match.path.regex");
    expect(issues[0].message).toContain("invalid regular expression");
  });

  test("a duplicate limit name is an error naming both places", () => {
    const issues = issuesOf(limitsFile("  - { name: a, rate: 1/s }\n  - { name: a, rate: 2/s }\n"));
    expect(issues[0]).toMatchObject({ path: "limits[1].name", message: `duplicate limit name "a" (also limits[0])` });
  });

  test("a constant cost above burst is an error with a fix, since such a request can never pass", () => {
    const issues = issuesOf(limitsFile("  - { name: a, rate: 10/s, burst: 3, cost: 5 }\n"));
    expect(issues[0]).toEqual({
      path: "limits[0].cost",
      message: "cost 5 exceeds burst 3: such a request can never pass",
      fix: "raise burst to at least 5 or lower cost",
    });
  });

  test("an unknown limit key suggests the close one", () => {
    const issues = issuesOf(limitsFile("  - { name: a, rate: 1/s, brust: 3 }\n"));
    expect(issues[0]).toMatchObject({ path: "limits[0].brust", fix: `did you mean "burst"?` });
  });

  test("a message that is not in haproxy.messages is an error", () => {
    const issues = issuesOf(limitsFile("  - { name: a, rate: 1/s, messages: [check-rat] }\n"));
    expect(issues[0].path).toBe("limits[0].messages");
  });

  test("an unknown matcher kind suggests the close one", () => {
    const issues = issuesOf(limitsFile("  - { name: a, rate: 1/s, match: { path: { prefx: /a } } }\n"));
    expect(issues[0]).toMatchObject({ path: "limits[0].match.path.prefx", fix: `did you mean "prefix"?` });
  });

  test("every problem of every limit is reported at once", () => {
    const issues = issuesOf(limitsFile("  - { name: \"bad name\", rate: x }\n  - { rate: 1/s, burst: 0 }\n"));
    expect(issues.map((i) => i.path)).toEqual(["limits[0].name", "limits[0].rate", "limits[1].name", "limits[1].burst"]);
  });
});

describe("the default limit (no limits[] in the config)", () => {
  test("the seed's T=10 ms, τ=200 ms become 100/s with burst 21 on check-rate, keyed by identity", () => {
    const config = load(withFile("{}"));
    expect(config.limits).toHaveLength(1);
    expect(config.limits[0]).toMatchObject({ name: "default", messages: ["check-rate"], count: 100, periodSeconds: 1, burst: 21, key: [{ kind: "identity" }] });
    expect(config.limits[0].params).toEqual({ emissionIntervalUs: 10_000, burstToleranceUs: 200_000 });
  });
});
