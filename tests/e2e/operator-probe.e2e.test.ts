// `spoa-gcra check-config --probe`: with the configuration serve would use, connect to Valkey,
// run the GCRA script once on a throwaway key (deleted afterwards) and say how it went.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type AddressInfo, createServer } from "node:net";
import type { AgentRuntime } from "../helpers/agent-process.ts";
import { freePort } from "../helpers/ports.ts";
import { runCli } from "../helpers/run-cli.ts";
import { startValkey, type ValkeyProcess } from "../helpers/valkey.ts";

const PASSWORD = "probe-secret-42";
let valkey: ValkeyProcess;

beforeAll(async () => {
  valkey = await startValkey({ password: PASSWORD });
});

afterAll(async () => {
  await valkey?.stop();
});

async function checkConfig(runtime: AgentRuntime, args: readonly string[], env: Record<string, string> = {}) {
  const run = await runCli(runtime, ["check-config", ...args], env);
  return { ...run, output: run.stdout + run.stderr };
}

describe("check-config --probe", () => {
  test("reports PING and one GCRA script run on a throwaway key, leaves no key behind, never prints the password", async () => {
    const run = await checkConfig("bun", ["--probe", "--valkey-url", valkey.url], { VALKEY_PASSWORD: PASSWORD });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("Configuration OK");
    expect(run.stdout).toMatch(/Valkey probe: OK/);
    expect(run.stdout).toMatch(/PING answered in [\d.]+ ms/);
    expect(run.stdout).toMatch(/GCRA script ran on a throwaway key in [\d.]+ ms: allowed/);
    expect(run.output).not.toContain(PASSWORD);
    expect((await valkey.cli("--scan", "--pattern", "*")).trim()).toBe("");
  }, 40_000);

  test("the compiled binary probes the same way", async () => {
    const run = await checkConfig("binary", ["--probe", "--valkey-url", valkey.url], { VALKEY_PASSWORD: PASSWORD });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/Valkey probe: OK/);
  }, 40_000);

  test("a wrong password is reported as such, exit 1", async () => {
    const run = await checkConfig("bun", ["--probe", "--valkey-url", valkey.url], { VALKEY_PASSWORD: "wrong-password" });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain("Configuration OK");
    expect(run.stderr).toMatch(/Valkey probe: FAILED/);
    expect(run.stderr).toMatch(/WRONGPASS|invalid username-password|NOAUTH/i);
    expect(run.output).not.toContain("wrong-password");
  }, 40_000);

  test("nobody listening: unreachable, exit 1, naming the address; the refusal ends the probe at once (no wait for a first connection) with the fix", async () => {
    const port = await freePort();
    const run = await checkConfig("bun", ["--probe", "--valkey-url", `redis://127.0.0.1:${port}`]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/Valkey probe: FAILED/);
    expect(run.stderr).toContain(`127.0.0.1:${port}`);
    expect(run.stderr).toMatch(/connection failed after [\d.]+ ms: .*ECONNREFUSED/);
    expect(run.stderr).toContain("fix: nothing listens there — start Valkey, or correct the address (--valkey-url / VALKEY_URL");
  }, 40_000);

  test("no password for a Valkey that wants one: NOAUTH with the settings that fix it", async () => {
    const run = await checkConfig("bun", ["--probe", "--valkey-url", valkey.url]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/connection failed after [\d.]+ ms: .*NOAUTH/);
    expect(run.stderr).toContain("fix: Valkey wants a password — set VALKEY_PASSWORD or store.valkey.passwordFile (--valkey-password-file)");
  }, 40_000);

  test("a listener that never answers: the true time waited (the first connection's wait included), and what it may be", async () => {
    const silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    try {
      const run = await checkConfig("bun", ["--probe", "--valkey-url", `redis://127.0.0.1:${(silent.address() as AddressInfo).port}`]);
      expect(run.code).toBe(1);
      const waited = Number(/PING unanswered after ([\d.]+) ms/.exec(run.stderr)?.[1]);
      // The probe waits 3 s for a first connection; what it reports must include that wait.
      expect(waited).toBeGreaterThanOrEqual(3_000);
      expect(run.stderr).toContain("fix: something accepts connections there but does not answer");
    } finally {
      silent.close();
    }
  }, 40_000);

  test("without Valkey there is nothing to probe, and that is fine", async () => {
    const run = await checkConfig("bun", ["--probe"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("no Valkey configured");
  }, 40_000);
});
