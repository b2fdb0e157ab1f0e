import { describe, expect, test } from "bun:test";
import { parseCliArgs } from "../../src/cli/args.ts";
import { checkConfigCommand } from "../../src/cli/check-config.ts";

function run(argv: readonly string[], options: { env?: Record<string, string>; files?: Record<string, string> } = {}) {
  let stdout = "";
  let stderr = "";
  const code = checkConfigCommand(parseCliArgs(["check-config", ...argv]), {
    env: options.env ?? {},
    readFile: (path) => {
      const text = options.files?.[path];
      if (text === undefined) throw new Error(`ENOENT: no such file, open '${path}'`);
      return text;
    },
    stdout: (s) => (stdout += s),
    stderr: (s) => (stderr += s),
  });
  return { code, stdout, stderr };
}

describe("checkConfigCommand()", () => {
  test("exits 0 and summarises the limits of a valid config", () => {
    const { code, stdout, stderr } = run(["--config", "/p.yaml"], {
      files: { "/p.yaml": "limits:\n  - { name: login, rate: 10/1m, burst: 5, key: [identity, \"arg:host\"] }\n  - { name: api, rate: 100/s, shadow: true }\n" },
    });
    expect(code).toBe(0);
    expect(stderr).toBe("");
    expect(stdout).toContain("Configuration OK (/p.yaml)");
    expect(stdout).toContain("2 limits:");
    expect(stdout).toContain("rate 10/m burst 5 (T = 6000000 µs, τ = 24000000 µs)");
    expect(stdout).toContain("keyed by identity + arg:host");
    expect(stdout).toContain("api (shadow: reports, never denies)");
  });

  test("summarises the seed's default limit when no file is given", () => {
    const { code, stdout } = run([], { env: { SPOA_RATE_INTERVAL: "10000", SPOA_RATE_BURST: "200000" } });
    expect(code).toBe(0);
    expect(stdout).toContain("default\n    rate 100/s burst 21 (T = 10000 µs, τ = 200000 µs)");
  });

  test("exits 2 and lists every problem with its path", () => {
    const { code, stdout, stderr } = run(["--config", "/p.yaml", "--rate-burst", "abc"], {
      env: { SPOE_ADDR: "nowhere" },
      files: { "/p.yaml": "limits:\n  - { name: a, rate: 100 per s }\n" },
    });
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr).toContain("Configuration invalid (3 problems)");
    expect(stderr).toContain(`limits[0].rate: expected "<count>/<unit>", got "100 per s"`);
    expect(stderr).toContain(`--rate-burst: expected a whole number of microseconds`);
    expect(stderr).toContain(`env SPOE_ADDR: expected host:port`);
  });
});
