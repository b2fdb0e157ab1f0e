import { describe, expect, test } from "bun:test";
import { resolve } from "node:path";
import { chooseHaproxy } from "../../scripts/demo-haproxy.ts";

const ROOT = resolve(import.meta.dir, "../..");

describe("chooseHaproxy()", () => {
  test("takes the test environment's newest HAProxy when none is on PATH or in /usr/sbin (a fresh machine after install-test-env.sh)", () => {
    // The listing is real (the test environment is installed); only "executable" is faked.
    expect(chooseHaproxy({ PATH: "/usr/bin", SPOA_TEST_CACHE: "/var/cache/spoa-gcra-test" }, (p) => p.startsWith("/var/cache/spoa-gcra-test/bin/haproxy-"))).toEqual({
      path: "/var/cache/spoa-gcra-test/bin/haproxy-3.4",
    });
  });

  test("prefers HAPROXY, then PATH", () => {
    expect(chooseHaproxy({ HAPROXY: "/opt/h", PATH: "/a" }, () => true)).toEqual({ path: "/opt/h" });
    expect(chooseHaproxy({ PATH: "/a:/b" }, (p) => p === "/b/haproxy")).toEqual({ path: "/b/haproxy" });
  });

  test("without any HAProxy: one line that says what to run", () => {
    const choice = chooseHaproxy({ PATH: "/usr/bin", SPOA_TEST_CACHE: "/nonexistent" }, () => false);
    expect(choice).toEqual({
      problem: "no HAProxy found (PATH, /usr/sbin, /nonexistent/bin): run `sudo bash scripts/install-test-env.sh` (what npm test installs) or `sudo apt-get install -y haproxy`, or set HAPROXY=/path/to/haproxy",
    });
  });

  test("npm run demo with a HAPROXY that is not there fails in one line, no stack trace", () => {
    const run = Bun.spawnSync(["npm", "run", "--silent", "demo"], {
      cwd: ROOT,
      env: { PATH: `${resolve(ROOT, "node_modules/.bin")}:${process.env.PATH ?? ""}`, HOME: process.env.HOME ?? "/tmp", HAPROXY: "/nonexistent/haproxy" },
      timeout: 30_000,
    });
    expect({ code: run.exitCode, stderr: run.stderr.toString(), stdout: run.stdout.toString() }).toEqual({
      code: 1,
      stderr: "npm run demo: HAPROXY=/nonexistent/haproxy is not an executable file: point it at an haproxy binary, or unset it\n",
      stdout: "",
    });
  }, 30_000);
});
