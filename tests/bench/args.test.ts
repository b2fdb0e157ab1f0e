import { describe, expect, test } from "bun:test";
import { parseDuration, parseLoadArgs, UsageError } from "../../bench/load/args.ts";

describe("parseLoadArgs", () => {
  test("applies the documented defaults", () => {
    expect(parseLoadArgs(["--target", "127.0.0.1:12345"])).toMatchObject({
      host: "127.0.0.1",
      port: 12345,
      connections: 16,
      pipeline: 20,
      durationMs: 10_000,
      mode: "closed",
      keys: 10_000,
      ipv6Share: 0.2,
      hello: "2.6",
      message: "check-rate",
      json: false,
    });
  });

  test("HAProxy 3.1 style caps the in-flight count at 20 per connection", () => {
    const o = parseLoadArgs(["--target=[::1]:9", "--hello", "3.1", "--pipeline", "64", "--json"]);
    expect(o).toMatchObject({ host: "::1", port: 9, pipeline: 20, json: true });
  });

  test("rejects unknown options, a missing target and bad values", () => {
    expect(() => parseLoadArgs(["--target", "h:1", "--nope", "1"])).toThrow(UsageError);
    expect(() => parseLoadArgs([])).toThrow(UsageError);
    expect(() => parseLoadArgs(["--target", "h:1", "--mode", "half"])).toThrow(UsageError);
    expect(() => parseLoadArgs(["--target", "h:1", "--ipv6-share", "2"])).toThrow(UsageError);
    expect(parseLoadArgs(["--help"])).toBe("help");
  });

  test("--agent-metrics and --store-pid name the agent's /metrics and a store process to measure", () => {
    expect(parseLoadArgs(["--target", "127.0.0.1:1", "--agent-metrics", "127.0.0.1:9100", "--store-pid", "42"])).toMatchObject({ agentMetrics: "127.0.0.1:9100", storePid: 42 });
    expect(parseLoadArgs(["--target", "127.0.0.1:1"])).toMatchObject({ agentMetrics: undefined, storePid: undefined });
    expect(() => parseLoadArgs(["--target", "127.0.0.1:1", "--store-pid", "x"])).toThrow(UsageError);
  });

  test("durations accept ms, s, m and bare seconds", () => {
    expect([parseDuration("500ms"), parseDuration("2.5s"), parseDuration("1m"), parseDuration("3")]).toEqual([500, 2500, 60_000, 3000]);
    expect(() => parseDuration("fast")).toThrow(UsageError);
  });
});
