import { describe, expect, test } from "bun:test";
import { parseCliArgs } from "../../src/cli/args.ts";
import { checkConfigCommand } from "../../src/cli/check-config.ts";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { resolve } from "node:path";

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

describe("check-config --haproxy", () => {
  const cfg = readFileSync(resolve(import.meta.dir, "../../deploy/haproxy/haproxy.cfg"), "utf8");
  const spoe = readFileSync(resolve(import.meta.dir, "../../deploy/haproxy/spoe-ratelimit.conf"), "utf8");

  test("says the shipped haproxy.cfg and SPOE config fit the policy, exit 0", () => {
    const { code, stdout, stderr } = run(["--haproxy", "/h.cfg", "--spoe", "/s.conf", "--haproxy-version", "2.6"], { files: { "/h.cfg": cfg, "/s.conf": spoe } });
    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    expect(stdout).toContain("HAProxy configuration OK (/h.cfg with /s.conf) for this policy");
  });

  test("lists each finding as file:line: severity: message — fix and exits 2 on an error (a rule reading txn.rl.remaining)", () => {
    const broken = cfg.replace("    use_backend", '    http-after-response set-header X-Left "%[var(txn.rl.remaining)]"\n    use_backend');
    const line = broken.split("\n").findIndex((l) => l.includes("X-Left")) + 1;
    const { code, stderr } = run(["--haproxy", "/h.cfg", "--spoe", "/s.conf"], { files: { "/h.cfg": broken, "/s.conf": spoe } });
    expect(code).toBe(2);
    expect(stderr).toContain("HAProxy configuration does not fit this policy (1 error, 0 warnings):");
    expect(stderr).toContain(`/h.cfg:${line}: error: reads txn.rl.remaining, but this configuration's ACK does not set it`);
    expect(stderr).toContain("— add remaining to haproxy.variables (--variables or SPOA_VARIABLES ip_score,allowed,retry_after,degraded,ratelimit,ratelimit_policy,ticket,deny_status,remaining)");
  });

  test("--spoe without --haproxy and a malformed --haproxy-version are refused with the fix", () => {
    expect(run(["--spoe", "/s.conf"]).stderr).toContain("add --haproxy haproxy.cfg");
    expect(run(["--haproxy", "/h.cfg", "--haproxy-version", "3"], { files: { "/h.cfg": cfg } }).stderr).toContain("--haproxy-version: expected major.minor such as 2.6 or 3.2");
  });
});

describe("check-config runs the checks serve runs before listening", () => {
  test("--workers 2 on a unix socket: check-config and serve both refuse it, with the same line", () => {
    const flags = ["--listen", "unix:/tmp/spoa-check-config.sock", "--workers", "2"];
    const checked = run(flags);
    const line = "--workers: 2 workers cannot share the unix socket unix:/tmp/spoa-check-config.sock: each would replace the others' socket file — use one worker on a unix socket, or a TCP listen address (127.0.0.1:12345) for several";
    expect(checked.code).toBe(2);
    expect(checked.stderr).toContain(line);
    const served = Bun.spawnSync([process.execPath, "src/cli/main.ts", "serve", ...flags], { cwd: resolve(import.meta.dir, "../.."), env: { PATH: process.env.PATH ?? "" }, timeout: 20_000 });
    expect(served.exitCode).toBe(2);
    expect(served.stderr.toString()).toContain(line);
  });
});

describe("check-config on a file that is not a config file", () => {
  test("a binary (the start of an ELF executable) is one line, not kilobytes of its bytes", () => {
    const elf = resolve(mkdtempSync(resolve(tmpdir(), "spoa-elf-")), "agent");
    writeFileSync(elf, Uint8Array.from({ length: 64 * 1024 }, (_, i) => (i < 4 ? [0x7f, 0x45, 0x4c, 0x46][i] : (i * 7919) % 256)));
    let stderr = "";
    const code = checkConfigCommand(parseCliArgs(["check-config", elf]), {
      env: {},
      readFile: (path) => readFileSync(path, "utf8"),
      stdout: () => {},
      stderr: (s) => (stderr += s),
    });
    expect(code).toBe(2);
    expect(stderr).toBe(`Configuration invalid (1 problem):\n  ${elf}: is not a text file (it contains NUL bytes); expected a YAML or JSON config file — pass the policy file (--config FILE or CONFIG_FILE)\n`);
  });

  test("a text file that is not YAML lists at most 5 problems, each line quoted to at most 120 characters", () => {
    const junk = Array.from({ length: 40 }, (_, i) => `${"x".repeat(500)} : : ${i}\n  - [`).join("\n");
    const { code, stderr } = run(["/junk.yaml"], { files: { "/junk.yaml": junk } });
    expect(code).toBe(2);
    const lines = stderr.trimEnd().split("\n");
    expect(lines.length).toBeLessThanOrEqual(7);
    expect(lines.at(-1)).toMatch(/^ {2}\/junk\.yaml: and \d+ more YAML problems \(is it the policy file\?\)$/);
    for (const line of lines) expect(line.length).toBeLessThan(300);
  });
});

describe("check-config's summary and errors say everything they mean", () => {
  test("the summary shows each condition's value and every variable the ACK sets, with its full name", () => {
    const { stdout } = run(["/p.yaml", "--variables", "ip_score,allowed,remaining"], {
      files: { "/p.yaml": "limits:\n  - { name: login, rate: 5/m, match: { path: { prefix: /login }, method: { in: [POST, PUT] }, ip_src: { cidr: [10.0.0.0/8] } } }\n" },
    });
    expect(stdout).toContain(`on check-rate when path prefix "/login" and method in [POST, PUT] and ip_src cidr [10.0.0.0/8], keyed by identity`);
    expect(stdout).toContain("  sets sess.rl.ip_score, txn.rl.allowed, txn.rl.remaining\n");
  });

  test("a file key's problem names the file it is in; flags and env vars stay as they are", () => {
    const { stderr } = run(["--config", "/etc/spoa/p.yaml", "--rate-burst", "x"], { files: { "/etc/spoa/p.yaml": "limits:\n  - { name: a, rate: 100 per s }\n" } });
    expect(stderr).toContain(`  /etc/spoa/p.yaml: limits[0].rate: expected "<count>/<unit>", got "100 per s"`);
    expect(stderr).toContain("  --rate-burst: expected a whole number");
  });
});
