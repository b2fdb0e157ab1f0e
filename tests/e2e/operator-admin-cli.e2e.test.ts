// `spoa-gcra inspect` / `reset` compute a key from the limits' names and rates: run with other
// settings than the agents', they look at a key no agent writes. They then say so, and how to
// run them with the agents' configuration. Real Valkey 8; the key is written as an agent would.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { limitKey } from "../../src/ratelimit/identity/keys.ts";
import { runCli } from "../helpers/run-cli.ts";
import { startValkey, type ValkeyProcess } from "../helpers/valkey.ts";

const AGENTS_ENV = { SPOA_RATE_INTERVAL: "1000000", SPOA_RATE_BURST: "4000000" };
/** The agents' key for 10.0.0.7 under their default limit (T = 1 s, τ = 4 s). */
const AGENTS_KEY = limitKey("rl:", "10.0.0.7", "default", { emissionIntervalUs: 1_000_000, burstToleranceUs: 4_000_000 });
let valkey: ValkeyProcess;

beforeAll(async () => {
  valkey = await startValkey();
  // TAT far ahead: the client is limited.
  await valkey.cli("SET", AGENTS_KEY, String((Date.now() + 600_000) * 1000), "PX", "600000");
}, 30_000);

afterAll(async () => {
  await valkey?.stop();
  if (valkey !== undefined) rmSync(valkey.dir, { recursive: true, force: true });
});

describe("inspect / reset with other settings than the agents'", () => {
  test("inspect with the agents' SPOA_RATE_* finds the state and warns about nothing", async () => {
    const run = await runCli("bun", ["inspect", "ip=10.0.0.7"], { ...AGENTS_ENV, VALKEY_URL: valkey.url });
    expect(run.code).toBe(0);
    expect(run.stderr).toBe("");
    expect(JSON.parse(run.stdout).limits[0].state.allowed).toBe(false);
  }, 30_000);

  test("inspect and reset from a shell without them warn that no key holds state, and name the settings they used", async () => {
    for (const command of ["inspect", "reset"]) {
      const run = await runCli("bun", [command, "ip=10.0.0.7"], { VALKEY_URL: valkey.url });
      expect(run.code).toBe(0);
      expect(run.stderr).toBe(
        `spoa-gcra ${command}: warning: no key holds state. Keys are computed from the limits' names and rates, here from no config file: the default limit with SPOA_RATE_INTERVAL=10000 SPOA_RATE_BURST=200000; ` +
          "if the agents run with another config file or other SPOA_RATE_* values, run this command with theirs (--config FILE, the same env) — or ask a running agent, which uses its own: curl its /admin/inspect (admin.enabled).\n" +
          // The key the agents wrote, which a reset takes as it is.
          `  10.0.0.7 has these keys in Valkey (other limits or rates): ${AGENTS_KEY} — reset one with spoa-gcra reset KEY\n`,
      );
    }
    // The agents' key was not touched by that reset.
    const still = await runCli("bun", ["inspect", "ip=10.0.0.7"], { ...AGENTS_ENV, VALKEY_URL: valkey.url });
    expect(JSON.parse(still.stdout).limits[0].state.allowed).toBe(false);
  }, 60_000);

  test("inspect ip=… keys lists every key the client has, whatever limit or rate wrote it", async () => {
    const run = await runCli("bun", ["inspect", "ip=10.0.0.7", "keys"], { VALKEY_URL: valkey.url });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ identity: "10.0.0.7", keys: [AGENTS_KEY] });
    const none = await runCli("bun", ["inspect", "ip=10.0.0.8", "keys"], { VALKEY_URL: valkey.url });
    expect(JSON.parse(none.stdout)).toEqual({ identity: "10.0.0.8", keys: [] });
  }, 30_000);
});
