import { describe, expect, test } from "bun:test";
import { logLevelOf, parseValue, redactUrl } from "../../src/config/values.ts";
import { issuesOf, withFile } from "./fixture.ts";

describe("value validation names the source", () => {
  test("a bad number in a flag names the flag", () => {
    expect(issuesOf({ flags: { "rate-burst": "abc" } })).toEqual([
      { path: "--rate-burst", message: `expected a whole number of microseconds from 0 to 86400000000, got "abc"` },
    ]);
  });

  test("a bad number in env names the variable", () => {
    expect(issuesOf({ env: { SPOA_RATE_BURST: "-5" } })[0]).toMatchObject({ path: "env SPOA_RATE_BURST", message: expect.stringContaining(`got "-5"`) });
  });

  test("a bad number in the file names the key", () => {
    expect(issuesOf(withFile("haproxy:\n  maxFrameSize: 12.5\n"))[0].path).toBe("haproxy.maxFrameSize");
  });

  test("a bad value is reported even when a stronger source overrides it", () => {
    expect(issuesOf({ env: { WORKERS: "many" }, flags: { workers: "2" } })[0].path).toBe("env WORKERS");
  });

  test("a bad listen address is an error with examples", () => {
    const issues = issuesOf({ flags: { listen: "12345" } });
    expect(issues[0]).toMatchObject({ path: "--listen", message: `expected host:port, [v6]:port or unix:/path, got "12345"` });
    expect(issues[0].fix).toContain("unix:/run/spoa/spoa.sock");
  });

  test("a bad metrics address is an error; off is accepted", () => {
    expect(issuesOf({ env: { METRICS_ADDR: "unix:/x" } })[0].path).toBe("env METRICS_ADDR");
    expect(parseValue("off", { type: "metrics" })).toEqual({ ok: true, value: "off" });
  });

  test("a bad trusted proxy CIDR is an error", () => {
    expect(issuesOf({ env: { TRUSTED_PROXIES: "10.0.0.0/8,300.1.1.1" } })[0].message).toContain(`invalid CIDR "300.1.1.1"`);
  });

  test("an unknown enum value lists the choices", () => {
    expect(issuesOf({ env: { FAILURE_POLICY: "open" } })[0].message).toBe(`expected "local", "allow" or "deny", got "open"`);
  });
});

describe("parseValue()", () => {
  test("accepts every listen form", () => {
    for (const text of ["127.0.0.1:12345", "[::1]:12345", "localhost:0", "unix:/run/spoa/spoa.sock"]) {
      expect(parseValue(text, { type: "listen" })).toEqual({ ok: true, value: text });
    }
    for (const text of ["::1:12345", "127.0.0.1:70000", "unix:relative", ":12345", "[fe80::1%eth0]:1"]) {
      expect(parseValue(text, { type: "listen" }).ok).toBe(false);
    }
  });

  test("turns comma lists and YAML lists into the same value", () => {
    const kind = { type: "list", item: "cidr" } as const;
    expect(parseValue("10.0.0.0/8, 192.168.1.1", kind)).toEqual(parseValue(["10.0.0.0/8", "192.168.1.1"], kind));
    expect(parseValue("10.0.0.0/8, 192.168.1.1", kind)).toEqual({ ok: true, value: ["10.0.0.0/8", "192.168.1.1/32"] });
  });

  test("reads booleans from text and YAML", () => {
    expect(parseValue("false", { type: "bool" })).toEqual({ ok: true, value: false });
    expect(parseValue(true, { type: "bool" })).toEqual({ ok: true, value: true });
    expect(parseValue("maybe", { type: "bool" })).toEqual({ ok: false, message: `expected true or false (also 1/0, yes/no, on/off), got "maybe"` });
  });

  test("accepts 1/0, yes/no, on/off and true/false in any case, as the docs' SPOA_ADMIN=1 writes it", () => {
    for (const word of ["1", "yes", "YES", "on", "true", "True"]) expect(parseValue(word, { type: "bool" })).toEqual({ ok: true, value: true });
    for (const word of ["0", "no", "off", "false", "FALSE"]) expect(parseValue(word, { type: "bool" })).toEqual({ ok: true, value: false });
  });
});

describe("logLevelOf()", () => {
  test("takes the global level of RUST_LOG directives", () => {
    expect(logLevelOf("warn")).toBe("warn");
    expect(logLevelOf("hyper=off,debug")).toBe("debug");
    expect(logLevelOf("spoa=debug")).toBe("debug");
    expect(logLevelOf("loud")).toBeUndefined();
  });
});

describe("redactUrl()", () => {
  test("hides the password of a URL", () => {
    expect(redactUrl("redis://user:s3cret@valkey:6379/0")).toBe("redis://user:<redacted>@valkey:6379/0");
    expect(redactUrl("redis://valkey:6379")).toBe("redis://valkey:6379");
  });
});
