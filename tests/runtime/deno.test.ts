// The Deno adapter and the Deno facts of engineering-notes §4, measured by running
// tests/runtime/deno-probe.ts under our pinned deno and reading its JSON report.
import { beforeAll, describe, expect, test } from "bun:test";
import { resolve } from "node:path";
import { runCases } from "./parse-args-cases.ts";

const ROOT = resolve(import.meta.dir, "../..");
const DENO = resolve(ROOT, "node_modules/.bin/deno");

// deno-lint-ignore no-explicit-any
type Facts = Record<string, any>;

async function probe(flags: readonly string[], args: readonly string[]): Promise<Facts> {
  const child = Bun.spawn([DENO, "run", "-A", ...flags, "tests/runtime/deno-probe.ts", ...args], {
    cwd: ROOT,
    stdout: "pipe",
    stderr: "pipe",
  });
  const timer = setTimeout(() => child.kill(), 30_000);
  try {
    const [out, err, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
    if (code !== 0) throw new Error(`deno-probe exited ${code}: ${err}`);
    return JSON.parse(out);
  } finally {
    clearTimeout(timer);
  }
}

describe("Deno adapter and Deno facts (deno 2.9.6)", () => {
  let facts: Facts;
  beforeAll(async () => {
    facts = await probe([], []);
  }, 40_000);

  test("detectRuntime() returns deno under deno", () => {
    expect(facts.runtime).toBe("deno");
  });

  test("node:util parseArgs in strict mode gives the same results under Deno and Bun", () => {
    expect(facts.parseArgs).toEqual(JSON.parse(JSON.stringify(runCases())));
  });

  test("setNoDelay(true) succeeds on an accepted Deno.listen connection", () => {
    expect(facts.setNoDelay).toBe("ok");
  });

  test("conn.write() of 4 MiB to a client that does not read returns a partial count", () => {
    expect(facts.firstWriteCount).toBeGreaterThan(0);
    expect(facts.firstWriteCount).toBeLessThan(4 * 1024 * 1024);
    expect(facts.writeCalls).toBeGreaterThan(1);
  });

  test("listenSpop() on a unix path replaces a stale socket and applies the mode", () => {
    expect(facts.unix).toMatchObject({ port: 0, mode: 0o660, isSocket: true });
    expect(facts.unix.address).toStartWith("unix:");
  });

  test("listenSpop() refuses a unix path that is a regular file and leaves the file alone", () => {
    expect(facts.regularFile).toMatchObject({ name: "RuntimeAdapterError", code: "unix-path-not-socket", stillThere: true });
  });

  test("listenSpop() with reusePort but without --unstable-net throws instead of exiting", () => {
    expect(facts.unstableNet).toBe(false);
    expect(facts.reusePortWithoutFlag).toMatchObject({ name: "RuntimeAdapterError", code: "reuse-port-unavailable" });
    expect(facts.reusePortWithoutFlag.message).toContain("--unstable-net");
  });

  test("serveHttp() answers a GET with the handler's response on the real port", () => {
    expect(facts.http.port).toBeGreaterThan(0);
    expect(facts.http).toMatchObject({ status: 200, body: "hello /healthz", runtime: "deno" });
    expect(facts.http.address).toBe(`127.0.0.1:${facts.http.port}`);
  });

  test("listenSpop() with reusePort under --unstable-net binds two listeners to one port", async () => {
    const result = await probe(["--unstable-net"], ["reuseport"]);
    expect(result.unstableNet).toBe(true);
    expect(result.reusePort.first).toBeGreaterThan(0);
    expect(result.reusePort.second).toBe(result.reusePort.first);
  }, 40_000);
});
