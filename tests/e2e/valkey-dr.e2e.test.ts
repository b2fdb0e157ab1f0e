// The disaster-recovery drill. The primary is lost, the operator promotes the
// replica with REPLICAOF NO ONE and points the agents at it by editing their config file — no
// restart. Under 200 req/s through HAProxy: every request decided (the failure policy while
// nothing answers), the agent switches within the config watcher's debounce plus one connect,
// and the replicated state (clients that spent their burst) is still there. A reload to
// settings that do not work is reported and the running connections keep serving.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { delta, faultMetrics } from "../helpers/fault-scenario.ts";
import type { HaproxyProcess } from "../helpers/haproxy.ts";
import { waitFor } from "../helpers/ports.ts";
import { clientIp } from "../helpers/spop-socket.ts";
import { type AgentOnValkey, startAgentOnValkey } from "../helpers/valkey-change.ts";
import { byStatus, startHaproxyFor, startHttpLoad } from "../helpers/valkey-haproxy.ts";
import { startValkey, tempDir, VALKEY_VERSIONS, valkeyLabel, type ValkeyProcess } from "../helpers/valkey.ts";

const RATE = 200;
const BURST = 3;
const SWITCHED = "valkey switched";
const REFUSED = "new Valkey settings do not answer PING; the running connections keep serving";

/** The agent's config file: where Valkey is, and 2 requests a minute with bursts of 3 per client. */
function configYaml(url: string): string {
  return `store:\n  valkey:\n    url: ${url}\nlimits:\n  - name: per-client\n    rate: 2/m\n    burst: ${BURST}\n`;
}

let dir: string;
let primary: ValkeyProcess;
let replica: ValkeyProcess;
let stack: AgentOnValkey;
let haproxy: HaproxyProcess;
let frontendPort = 0;
let configFile = "";

for (const valkeyVersion of VALKEY_VERSIONS) describe(valkeyLabel(valkeyVersion), () => {
  beforeAll(async () => {
    dir = tempDir("spoa-dr-");
    const sub = (name: string) => {
      mkdirSync(join(dir, name));
      return join(dir, name);
    };
    primary = await startValkey({ version: valkeyVersion }, sub("primary"));
    replica = await startValkey({ version: valkeyVersion, replicaOf: primary.port }, sub("replica"));
    await waitFor("the replica in sync", async () => (await replica.cli("INFO", "replication")).includes("master_link_status:up"), 10_000);
    configFile = join(dir, "spoa.yaml");
    writeFileSync(configFile, configYaml(primary.url));
    stack = await startAgentOnValkey({ env: {}, args: ["--config", configFile, "--trusted-proxies", "127.0.0.1/32"] });
    ({ haproxy, port: frontendPort } = await startHaproxyFor(stack.port));
  }, 40_000);

  afterAll(async () => {
    await haproxy?.stop();
    await stack?.stop();
    await Promise.all([primary?.stop(), replica?.stop()]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  describe("the agent through a disaster-recovery switch by config reload", () => {
    test("a reload to an address that does not answer is reported; the running connections keep serving", async () => {
      const logsBefore = stack.agent.logs().length;
      writeFileSync(configFile, configYaml("redis://127.0.0.1:1"));
      await stack.agent.waitForLog(REFUSED, 10_000);
      expect(stack.agent.logs().slice(logsBefore).filter((l) => l.msg === SWITCHED)).toEqual([]);
      expect((await stack.sockets[0].check(clientIp(70_000))).degraded).toBe(false);
      writeFileSync(configFile, configYaml(primary.url)); // back to the running address: nothing to do
    }, 20_000);

    test(`primary lost, replica promoted, config file edited, under ${RATE} req/s: every request decided, switched without a restart, replicated state kept`, async () => {
      // Witnesses spend their burst on the primary; WAIT until the replica has it.
      const witnesses = Array.from({ length: 10 }, (_, i) => clientIp(80_000 + i));
      for (const w of witnesses) for (let i = 0; i < BURST; i++) expect((await stack.sockets[0].check(w)).allowed).toBe(true);
      expect(await primary.cli("WAIT", "1", "2000")).toBe("1");
      const pid = stack.agent.pid;
      const before = await faultMetrics(stack.metrics);
      const load = startHttpLoad(frontendPort, { concurrency: 8, perSecond: RATE });
      await Bun.sleep(1_000);
      await primary.stop("SIGKILL");
      const lostAt = performance.now();
      await Bun.sleep(1_000); // the operator notices
      expect(await replica.cli("REPLICAOF", "NO", "ONE")).toBe("OK");
      writeFileSync(configFile, configYaml(replica.url));
      const editedAt = performance.now();
      await stack.agent.waitForLog(SWITCHED, 10_000);
      const switchedMs = performance.now() - editedAt;
      await waitFor("decisions on the promoted replica", async () => !(await stack.sockets[0].check(clientIp(90_000 + Math.floor(performance.now())))).degraded, 10_000);
      const backMs = performance.now() - editedAt;
      await Bun.sleep(1_000);
      const outcomes = await load.stop();
      const d = delta(before, await faultMetrics(stack.metrics));
      const counts = byStatus(outcomes);
      const afterEdit = outcomes.filter((o) => o.at > editedAt + backMs + 100);
      console.log(
        `DR switch (${valkeyLabel(valkeyVersion)}): primary lost, REPLICAOF NO ONE after 1 s, config edited: "${SWITCHED}" ${switchedMs.toFixed(0)} ms after the edit, ` +
          `decisions on the new primary ${backMs.toFixed(0)} ms after it (${((performance.now() - lostAt) / 1000).toFixed(1)} s of outage in all); HTTP ${JSON.stringify(counts)}; ` +
          `metrics: degraded error ${d.degradedError} / breaker-open ${d.degradedBreakerOpen} / timeout ${d.degradedTimeout}`,
      );

      expect(stack.agent.pid).toBe(pid);
      expect(Object.keys(counts).filter((s) => s !== "200" && s !== "203")).toEqual([]);
      expect(d.acks).toBe(d.notifies);
      expect(counts["203"]).toBeGreaterThan(0);
      expect(backMs).toBeLessThan(8_000);
      expect(afterEdit.filter((o) => o.status === 203).length).toBeLessThanOrEqual(afterEdit.length / 100);
      // The replica had the witnesses' spent bursts: still denied, by Valkey.
      const after = await Promise.all(witnesses.map((w) => stack.sockets[1].check(w)));
      expect(after.map((v) => [v.allowed, v.degraded])).toEqual(witnesses.map(() => [false, false]));
    }, 40_000);
  });
});
