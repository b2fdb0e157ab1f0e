// Issue 22 (5): the Valkey password rotated without a restart, under 500 NOTIFY/s. The agent
// reads it from a file (a mounted Secret) and watches that file: the ACL user first accepts the
// old and the new password, the file is replaced, the agent connects with the new one and
// switches; then the old password is removed and every connection is killed — they come back,
// so they authenticate with the new one. A wrong new password is reported, and the running
// connections keep deciding.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { delta, faultMetrics, startLoad } from "../helpers/fault-scenario.ts";
import { waitFor } from "../helpers/ports.ts";
import { clientIp } from "../helpers/spop-socket.ts";
import { type AgentOnValkey, startAgentOnValkey } from "../helpers/valkey-change.ts";
import { startValkey, VALKEY_VERSIONS, valkeyLabel, type ValkeyProcess } from "../helpers/valkey.ts";

const RATE = 500;
const USER = "spoa";
const SWITCHED = "valkey switched";
const REFUSED = "new Valkey settings do not answer PING; the running connections keep serving";
const loadKey = (i: number) => clientIp(1 + (i % 2_000));

let valkey: ValkeyProcess;
let stack: AgentOnValkey;
let passwordFile = "";

/** Replaces the secret file the way a Secret volume does: a new file renamed over the old. */
function writeSecret(secret: string): void {
  writeFileSync(`${passwordFile}.new`, `${secret}\n`);
  renameSync(`${passwordFile}.new`, passwordFile);
}

const linesAfter = (from: number, msg: string) => stack.agent.logs().slice(from).filter((l) => l.msg === msg);

for (const valkeyVersion of VALKEY_VERSIONS) describe(valkeyLabel(valkeyVersion), () => {
  beforeAll(async () => {
    valkey = await startValkey({ version: valkeyVersion, aclUser: { name: USER, password: "old-secret" } });
    passwordFile = join(valkey.dir, "valkey-password");
    writeSecret("old-secret");
    const config = join(valkey.dir, "spoa.yaml");
    writeFileSync(config, `store:\n  valkey:\n    url: ${valkey.url}\n    username: ${USER}\n    passwordFile: ${passwordFile}\n`);
    stack = await startAgentOnValkey({ env: {}, args: ["--config", config] });
  }, 30_000);

  afterAll(async () => {
    await stack?.stop();
    await valkey?.stop();
    if (valkey) rmSync(valkey.dir, { recursive: true, force: true });
  });

  describe("the agent while its Valkey password rotates", () => {
    test(`old and new password overlapping, then the old removed, under ${RATE} NOTIFY/s: no decision lost, connections re-authenticate`, async () => {
      const logsBefore = stack.agent.logs().length;
      const before = await faultMetrics(stack.metrics);
      const load = startLoad(stack.sockets, { concurrency: 4, ratePerSecond: RATE, key: loadKey });
      await Bun.sleep(500);
      expect(await valkey.cli("ACL", "SETUSER", USER, ">new-secret")).toBe("OK");
      const rotatedAt = performance.now();
      writeSecret("new-secret");
      await waitFor("the agent to switch", () => linesAfter(logsBefore, SWITCHED).length > 0, 10_000);
      const switchedMs = performance.now() - rotatedAt;
      // The replaced connections close after their grace period (2 × deadline + 1 s); then the old password goes.
      await Bun.sleep(1_500);
      expect(await valkey.cli("ACL", "SETUSER", USER, "<old-secret")).toBe("OK");
      const rotation = await load.stop();
      const d = delta(before, await faultMetrics(stack.metrics));

      // Every connection dropped: they can only come back with the new password.
      const killed = Number(await valkey.cli("CLIENT", "KILL", "USER", USER));
      await waitFor("decisions from Valkey after the reconnect", async () => !(await stack.sockets[0].check(clientIp(60_000))).degraded, 10_000);
      const users = (await valkey.cli("CLIENT", "LIST")).split("\n").filter((l) => l.includes(` user=${USER} `)).length;
      console.log(
        `password rotation at ${RATE}/s (${valkeyLabel(valkeyVersion)}): switched ${switchedMs.toFixed(0)} ms after the file changed; ` +
          `${rotation.outcomes.length} decisions, ${rotation.outcomes.filter((o) => o.degraded).length} degraded; then ${killed} connections killed, ${users} back as ${USER}`,
      );

      expect(rotation.errors).toEqual([]);
      expect(d.acks).toBe(d.notifies);
      // The switch itself costs no decision (a starved CPU may still cost one a deadline).
      expect(rotation.outcomes.filter((o) => o.degraded).length).toBeLessThanOrEqual(rotation.outcomes.length / 100);
      expect(killed).toBeGreaterThan(0);
      expect(users).toBeGreaterThan(0);
    }, 30_000);

    test("a wrong new password is reported clearly, and the running connections keep deciding", async () => {
      const logsBefore = stack.agent.logs().length;
      const load = startLoad(stack.sockets, { concurrency: 4, ratePerSecond: RATE, key: loadKey });
      writeSecret("not-the-password");
      await waitFor("the refusal in the log", () => linesAfter(logsBefore, REFUSED).length > 0, 10_000);
      await Bun.sleep(500);
      const result = await load.stop();
      const lines = stack.agent.logs().slice(logsBefore);
      const why = lines.filter((l) => /WRONGPASS/.test(JSON.stringify(l)));
      console.log(`wrong password (${valkeyLabel(valkeyVersion)}): ${JSON.stringify(linesAfter(logsBefore, REFUSED)[0])}; ${why.length} lines name WRONGPASS, e.g. ${JSON.stringify(why[0])}`);

      expect(why.length).toBeGreaterThan(0);
      expect(linesAfter(logsBefore, SWITCHED)).toEqual([]);
      expect(result.errors).toEqual([]);
      expect(result.outcomes.filter((o) => o.degraded).length).toBeLessThanOrEqual(result.outcomes.length / 100);
      writeSecret("new-secret");
    }, 20_000);
  });
});
