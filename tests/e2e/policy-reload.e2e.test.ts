// Issue 4, hot reload: the agent (under bun, deno and the compiled binary) re-reads its policy file on SIGHUP and when the
// file changes — also through a Kubernetes ConfigMap symlink swap — without dropping a NOTIFY,
// keeps the running config when the new one is bad, and refuses (and logs) a listen change.
// Which config decided is read from the ACK itself: txn.ratelimit_policy names the limit and
// its quota (`"gen";q=<count>;w=<seconds>`).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type AgentProcess, type AgentRuntime, startAgent } from "../helpers/agent-process.ts";
import { isListening } from "../helpers/haproxy.ts";
import { ackVars, checkRate, logsWith, notifyLoad, openSpop, waitForLogCount } from "../helpers/policy-load.ts";
import { freePort } from "../helpers/ports.ts";
import { ACK_VARIABLE_NAMES } from "../../src/ratelimit/answer/ack-selection.ts";

const RELOADED = "config reloaded";
const FAILED = "config reload failed; keeping the running config";
const NEEDS_RESTART = "config change needs a restart; keeping the running value";

/** A policy file with one limit `name` at `rate`; `listen` is in the file so a change to it can be refused. */
function policyYaml(options: {
  readonly name: string;
  readonly rate: string;
  readonly listen?: string;
  readonly burst?: number;
  readonly keyPrefix?: string;
}): string {
  return [
    ...(options.listen === undefined ? [] : [`listen: "${options.listen}"`]),
    ...(options.keyPrefix === undefined ? [] : ["store:", `  keyPrefix: "${options.keyPrefix}"`]),
    "limits:",
    `  - name: ${options.name}`,
    `    rate: ${options.rate}`,
    `    burst: ${options.burst ?? 1_000_000}`,
    "    key: [identity]",
    "",
  ].join("\n");
}

/** The RateLimit-Policy value (txn.ratelimit_policy) of one fresh decision over a new connection. */
async function policyInForce(port: number, src = "10.1.1.1"): Promise<string> {
  const conn = await openSpop(port);
  try {
    const vars = ackVars(await conn.decide([checkRate({ src })]));
    expect(vars.get("txn.allowed")).toBe(true);
    return String(vars.get("txn.ratelimit_policy"));
  } finally {
    conn.close();
  }
}

/** Reload lines whose trigger is `trigger`. */
function count(agent: AgentProcess, msg: string, trigger: string): number {
  return logsWith(agent, msg).filter((line) => line.trigger === trigger).length;
}

for (const runtime of ["bun", "deno", "binary"] as const satisfies readonly AgentRuntime[]) {
  describe(`hot reload of a plain policy file (agent under ${runtime})`, () => {
    let agent: AgentProcess;
    let dir = "";
    let file = "";
    let port = 0;

    beforeAll(async () => {
      port = await freePort();
      dir = mkdtempSync(join(tmpdir(), "spoa-policy-reload-"));
      file = join(dir, "policy.yaml");
      writeFileSync(file, policyYaml({ name: "gen", rate: "1000/s", listen: `127.0.0.1:${port}` }));
      agent = await startAgent({ runtime, args: ["serve", "--config", file, "--variables", ACK_VARIABLE_NAMES.join(",")] });
    }, 30_000);

    afterAll(async () => {
      await agent?.stop();
      if (dir !== "") rmSync(dir, { recursive: true, force: true });
    });

    test("50 SIGHUPs over 2 s under pipelined NOTIFY load: every NOTIFY is ACKed and no connection closes", async () => {
      const signals = 50;
      const report = await notifyLoad({
        port,
        connections: 4,
        inFlight: 8,
        durationMs: 2_400,
        maxPerConnection: 50_000,
        message: (n) => checkRate({ src: `10.0.${(n >> 8) & 255}.${n & 255}` }),
        // A real decision of the "gen" limit, never the failure answer (txn.degraded).
        accept: (actions) => {
          const vars = ackVars(actions);
          return vars.get("txn.allowed") === true && vars.get("txn.policy") === "gen" && !vars.has("txn.degraded");
        },
        during: async () => {
          for (let i = 0; i < signals; i++) {
            agent.signal("SIGHUP");
            await Bun.sleep(40);
          }
        },
      });
      expect(report.closed).toEqual([]);
      expect(report.unanswered).toBe(0);
      expect(report.refused).toBe(0);
      expect(report.strayAcks).toBe(0);
      expect(report.sent).toBeGreaterThan(100);
      expect(report.acked).toBe(report.sent);
      // Signals sent close together may be merged by the kernel; most must have reloaded.
      const reloads = await waitForLogCount(agent, { msg: RELOADED, count: signals / 2 });
      expect(reloads.every((line) => line.trigger === "SIGHUP")).toBe(true);
      expect(logsWith(agent, FAILED)).toEqual([]);
      console.info(`SIGHUP storm (${runtime}): ${report.sent} NOTIFYs ACKed over 4 connections, ${reloads.length}/${signals} reloads logged`);
      expect(await policyInForce(port)).toBe('"gen";q=1000;w=1');
    }, 30_000);

    test("a file with a YAML syntax error, then one with an invalid rate, is logged and the old config keeps deciding", async () => {
      const failedBefore = logsWith(agent, FAILED).length;
      writeFileSync(file, "limits: [ { name: gen, rate: \n");
      const [syntax] = (await waitForLogCount(agent, { msg: FAILED, count: failedBefore + 1 })).slice(failedBefore);
      expect(syntax.trigger).toBe("file");
      expect(await policyInForce(port)).toBe('"gen";q=1000;w=1');

      writeFileSync(file, policyYaml({ name: "gen", rate: "5/fortnight", listen: `127.0.0.1:${port}` }));
      const [badRate] = (await waitForLogCount(agent, { msg: FAILED, count: failedBefore + 2 })).slice(failedBefore + 1);
      expect(badRate.trigger).toBe("file");
      expect(String(badRate.error)).toContain("limits[0].rate");
      expect(String(badRate.error)).toContain("5/fortnight");

      agent.signal("SIGHUP");
      const [bySignal] = (await waitForLogCount(agent, { msg: FAILED, count: failedBefore + 3 })).slice(failedBefore + 2);
      expect(bySignal.trigger).toBe("SIGHUP");
      expect(await policyInForce(port, "10.1.1.2")).toBe('"gen";q=1000;w=1');
    }, 30_000);

    test("a changed rate is picked up from the file alone (no signal) and decides the next request", async () => {
      const before = count(agent, RELOADED, "file");
      const reloadsBefore = logsWith(agent, RELOADED).length;
      writeFileSync(file, policyYaml({ name: "gen", rate: "7/s", listen: `127.0.0.1:${port}` }));
      await waitForLogCount(agent, { msg: RELOADED, count: reloadsBefore + 1 });
      expect(count(agent, RELOADED, "file")).toBe(before + 1);
      expect(await policyInForce(port, "10.1.1.3")).toBe('"gen";q=7;w=1');
    }, 30_000);

    test("a listen-address change is refused with a log line; the agent keeps listening where it was and applies the rest", async () => {
      const otherPort = await freePort();
      const refusedBefore = logsWith(agent, NEEDS_RESTART).length;
      writeFileSync(file, policyYaml({ name: "gen", rate: "9/s", listen: `127.0.0.1:${otherPort}` }));
      const [refused] = (await waitForLogCount(agent, { msg: NEEDS_RESTART, count: refusedBefore + 1 })).slice(refusedBefore);
      expect(refused.field).toBe("listen");
      expect(refused.trigger).toBe("file");
      // The rest of the file (the new rate) still applies, on the old address only.
      expect(await policyInForce(port, "10.1.1.4")).toBe('"gen";q=9;w=1');
      expect(await isListening(otherPort)).toBe(false);
    }, 30_000);

    // A refused listen change must not be recorded as running: going back to the address in use is no change.
    test("putting the listen address back to the one in use logs no restart warning", async () => {
      const refusedBefore = logsWith(agent, NEEDS_RESTART).length;
      const reloadsBefore = logsWith(agent, RELOADED).length;
      writeFileSync(file, policyYaml({ name: "gen", rate: "13/s", listen: `127.0.0.1:${port}` }));
      await waitForLogCount(agent, { msg: RELOADED, count: reloadsBefore + 1 });
      expect(await policyInForce(port, "10.1.1.5")).toBe('"gen";q=13;w=1');
      expect(logsWith(agent, NEEDS_RESTART).length).toBe(refusedBefore);
    }, 30_000);

    // A refused store.keyPrefix change is really kept: the policies keep building the old keys.
    test("a store.keyPrefix change that is refused does not reset the counters", async () => {
      const listen = `127.0.0.1:${port}`;
      let reloads = logsWith(agent, RELOADED).length;
      writeFileSync(file, policyYaml({ name: "gen", rate: "1/m", burst: 1, listen }));
      await waitForLogCount(agent, { msg: RELOADED, count: ++reloads });
      const conn = await openSpop(port);
      try {
        const request = [checkRate({ src: "10.1.1.6" })];
        expect(ackVars(await conn.decide(request)).get("txn.allowed")).toBe(true);
        expect(ackVars(await conn.decide(request)).get("txn.allowed")).toBe(false);
        const refusedBefore = logsWith(agent, NEEDS_RESTART).length;
        writeFileSync(file, policyYaml({ name: "gen", rate: "1/m", burst: 1, listen, keyPrefix: "other:" }));
        const [refused] = (await waitForLogCount(agent, { msg: NEEDS_RESTART, count: refusedBefore + 1 })).slice(refusedBefore);
        expect(refused.field).toBe("store");
        await waitForLogCount(agent, { msg: RELOADED, count: ++reloads });
        expect(ackVars(await conn.decide(request)).get("txn.allowed")).toBe(false);
      } finally {
        conn.close();
      }
    }, 30_000);
  });

  describe(`hot reload through a Kubernetes ConfigMap symlink swap (agent under ${runtime})`, () => {
    let agent: AgentProcess;
    let dir = "";
    let port = 0;

    /** Writes `..<version>/policy.yaml` and atomically points `..data` at it, as the kubelet does. */
    function publish(version: string, rate: string, first = false): void {
      mkdirSync(join(dir, version));
      writeFileSync(join(dir, version, "policy.yaml"), policyYaml({ name: "cm", rate }));
      if (first) {
        symlinkSync(version, join(dir, "..data"));
        symlinkSync(join("..data", "policy.yaml"), join(dir, "policy.yaml"));
        return;
      }
      symlinkSync(version, join(dir, "..data_tmp"));
      renameSync(join(dir, "..data_tmp"), join(dir, "..data"));
    }

    beforeAll(async () => {
      port = await freePort();
      dir = mkdtempSync(join(tmpdir(), "spoa-policy-configmap-"));
      publish("..2026_a", "11/s", true);
      agent = await startAgent({ runtime, args: ["serve", "--config", join(dir, "policy.yaml"), "--listen", `127.0.0.1:${port}`] });
    }, 30_000);

    afterAll(async () => {
      await agent?.stop();
      if (dir !== "") rmSync(dir, { recursive: true, force: true });
    });

    test("swapping ..data to a new version directory reloads, and so does the next swap", async () => {
      expect(await policyInForce(port)).toBe('"cm";q=11;w=1');

      publish("..2026_b", "22/s");
      rmSync(join(dir, "..2026_a"), { recursive: true });
      await waitForLogCount(agent, { msg: RELOADED, count: 1 });
      expect(await policyInForce(port, "10.1.2.1")).toBe('"cm";q=22;w=1');

      // The watched target moved: a second swap proves the watcher followed it.
      publish("..2026_c", "33/s");
      rmSync(join(dir, "..2026_b"), { recursive: true });
      await waitForLogCount(agent, { msg: RELOADED, count: 2 });
      expect(await policyInForce(port, "10.1.2.2")).toBe('"cm";q=33;w=1');
      expect(logsWith(agent, RELOADED).every((line) => line.trigger === "file")).toBe(true);
      expect(logsWith(agent, FAILED)).toEqual([]);
    }, 30_000);
  });
}
