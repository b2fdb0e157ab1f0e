import { describe, expect, test } from "bun:test";
import { parseConfigText } from "../../src/config/load.ts";
import { load, issuesOf, withFile } from "./fixture.ts";

describe("loadConfig defaults", () => {
  test("loadConfig() with nothing set gives the documented defaults and one default limit", () => {
    const config = load();
    expect(config.listen).toBe("127.0.0.1:12345");
    expect(config.metrics).toBe("127.0.0.1:12346");
    expect(config.workers).toBe(1);
    expect(config.logLevel).toBe("info");
    expect(config.haproxy).toEqual({ varPrefix: "rl", maxFrameSize: 16380, helloTimeoutMs: 10000, maxInFlight: 10000, messages: ["check-rate"],
      variables: ["ip_score", "allowed", "retry_after", "degraded", "ratelimit", "ratelimit_policy", "ticket", "deny_status"] });
    expect(config.identity).toEqual({ trustedProxies: [], ipv6PrefixLength: 64, forwardedArg: "ip_fwd", xffArg: "ip_xff", sourceArg: "ip_src" });
    expect(config.store.kind).toBe("memory");
    expect(config.store.valkey).toBeUndefined();
    expect(config.store.failurePolicy).toBe("local");
    expect(config.onAgentError).toBe("allow");
    expect(config.keyTtlSeconds).toBe(1800);
    expect(config.source).toEqual({});
    expect(config.limits).toEqual([{
      name: "default", messages: ["check-rate"], match: [], key: [{ kind: "identity" }],
      count: 100, periodSeconds: 1, burst: 21,
      params: { emissionIntervalUs: 10000, burstToleranceUs: 200000 },
      cost: { kind: "constant", value: 1 }, shadow: false,
    }]);
  });

  test("the seed's SPOA_RATE_INTERVAL and SPOA_RATE_BURST become T and τ of the default limit directly", () => {
    const config = load({ env: { SPOA_RATE_INTERVAL: "2000", SPOA_RATE_BURST: "5000", SPOA_RATE_TTL: "60" } });
    expect(config.limits[0].params).toEqual({ emissionIntervalUs: 2000, burstToleranceUs: 5000 });
    expect(config.limits[0].count).toBe(500);
    expect(config.limits[0].burst).toBe(3);
    expect(config.keyTtlSeconds).toBe(60);
  });

  test("workers auto becomes 0, meaning detect", () => {
    expect(load({ flags: { workers: "auto" } }).workers).toBe(0);
  });
});

describe("loadConfig precedence: flags > env > file > defaults", () => {
  const file = withFile("listen: 10.0.0.1:1000\nmetrics: 10.0.0.1:2000\nlogLevel: warn\nworkers: 3\n");

  test("a file value beats the default", () => {
    expect(load(file).workers).toBe(3);
  });

  test("an env value beats the file", () => {
    const config = load({ ...file, env: { SPOE_ADDR: "10.0.0.2:1000", METRICS_ADDR: "off" } });
    expect(config.listen).toBe("10.0.0.2:1000");
    expect(config.metrics).toBe("off");
    expect(config.logLevel).toBe("warn");
  });

  test("a flag beats env and file", () => {
    // One worker: several cannot share a unix socket.
    const config = load({ ...file, flags: { ...file.flags, listen: "unix:/run/spoa/spoa.sock", workers: "1" }, env: { SPOE_ADDR: "10.0.0.2:1000" } });
    expect(config.listen).toBe("unix:/run/spoa/spoa.sock");
    expect(config.source.file).toBe("/etc/spoa/policy.yaml");
  });

  test("CONFIG_FILE names the file when --config is absent", () => {
    expect(load({ env: { CONFIG_FILE: "/c.yaml" }, files: { "/c.yaml": "workers: 7" } }).workers).toBe(7);
  });
});

describe("loadConfig log level", () => {
  test("RUST_LOG values of the seed map to the global level", () => {
    expect(load({ env: { RUST_LOG: "debug" } }).logLevel).toBe("debug");
    expect(load({ env: { RUST_LOG: "spoa=trace" } }).logLevel).toBe("trace");
    expect(load({ env: { RUST_LOG: "info,foo=warn" } }).logLevel).toBe("info");
    expect(load({ env: { RUST_LOG: "OFF" } }).logLevel).toBe("off");
  });

  test("LOG_LEVEL wins over RUST_LOG", () => {
    expect(load({ env: { RUST_LOG: "debug", LOG_LEVEL: "error" } }).logLevel).toBe("error");
  });

  test("an unknown RUST_LOG value is an error naming the variable", () => {
    expect(issuesOf({ env: { RUST_LOG: "verbose" } })[0].path).toBe("env RUST_LOG");
  });
});

describe("loadConfig file formats", () => {
  const yaml = "listen: \"[::1]:12345\"\nsocketMode: \"0660\"\nlimits:\n  - name: api\n    rate: 6000/m\n    burst: 50\n";
  const json = JSON.stringify({ listen: "[::1]:12345", socketMode: "0660", limits: [{ name: "api", rate: "6000/m", burst: 50 }] });

  test("YAML and JSON files load to the same config", () => {
    const fromYaml = load({ flags: { config: "/p.yaml" }, files: { "/p.yaml": yaml } });
    const fromJson = load({ flags: { config: "/p.json" }, files: { "/p.json": json } });
    expect({ ...fromJson, source: {} }).toEqual({ ...fromYaml, source: {} });
    expect(fromYaml.socketMode).toBe(0o660);
    expect(fromYaml.limits[0].params).toEqual({ emissionIntervalUs: 10000, burstToleranceUs: 490000 });
  });

  test("parseConfigText() reports a YAML syntax error with its line", () => {
    expect(() => parseConfigText("a: [1,\n", "p.yaml")).toThrow(/p\.yaml:\d+:\d+: invalid YAML/);
  });

  test("parseConfigText() reports a JSON syntax error", () => {
    expect(() => parseConfigText("{", "p.json")).toThrow(/p\.json: invalid JSON/);
  });

  test("a missing config file is an error naming --config", () => {
    const issues = issuesOf({ flags: { config: "/nope.yaml" } });
    expect(issues[0].path).toBe("--config");
    expect(issues[0].message).toContain("cannot read config file");
  });

  test("an empty file means all defaults", () => {
    expect(load(withFile("")).listen).toBe("127.0.0.1:12345");
  });
});

describe("loadConfig Valkey", () => {
  test("VALKEY_URL selects the Valkey store with the documented defaults", () => {
    const config = load({ env: { VALKEY_URL: "redis://valkey:6379", VALKEY_PASSWORD: "s3cret" } });
    expect(config.store.kind).toBe("valkey");
    expect(config.store.valkey).toEqual({ url: "redis://valkey:6379", password: "s3cret", keyPrefix: "rl:", deadlineMs: 50, connections: 2, batch: true, batchDelayMs: 0, hotKeyRate: 0 });
  });

  test("VALKEY_NODES is a comma-separated cluster list, as in the seed", () => {
    const config = load({ env: { VALKEY_NODES: "redis://a:6379, redis://b:6379" } });
    expect(config.store.valkey?.nodes).toEqual(["redis://a:6379", "redis://b:6379"]);
  });

  test("the password file is read and its trailing newline dropped", () => {
    const config = load({ env: { VALKEY_URL: "redis://v:6379", VALKEY_PASSWORD_FILE: "/run/pw" }, files: { "/run/pw": "hunter2\n" } });
    expect(config.store.valkey?.password).toBe("hunter2");
  });

  test("TLS file paths are read into PEM contents", () => {
    const config = load({
      flags: { "valkey-url": "rediss://v:6379", "valkey-ca-file": "/ca.pem", "valkey-cert-file": "/c.pem", "valkey-key-file": "/k.pem" },
      files: { "/ca.pem": "CA", "/c.pem": "CERT", "/k.pem": "KEY" },
    });
    expect(config.store.valkey?.tls).toEqual({ ca: "CA", cert: "CERT", key: "KEY", rejectUnauthorized: true });
  });

  test("sentinels without a master name are an error with a fix", () => {
    const issues = issuesOf({ env: { VALKEY_SENTINELS: "s1:26379" } });
    expect(issues[0]).toMatchObject({ path: "env VALKEY_SENTINELS", message: "sentinels need a master name" });
  });

  test("url and nodes together are an error", () => {
    expect(issuesOf({ env: { VALKEY_URL: "redis://a:1", VALKEY_NODES: "redis://b:1" } })[0].message).toContain("choose one");
  });
});
