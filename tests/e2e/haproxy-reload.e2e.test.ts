// HAProxy reloads under load, on every HAProxy version and agent runtime: HAProxy in
// master-worker mode (-W) gets 10 × SIGUSR2 while wrk keeps requests flowing. Every request
// answered is a decision the agent made (its decision counters ≥ 200s + 429s seen by wrk, and no
// request fell through on an SPOE error), the agent logs no warning or error, and every SPOP
// connection the old workers leave behind — HAPROXY-DISCONNECT up to 3.0, a close or an RST from
// 3.1's connection pool — ends as a normal close, never "peer-error".
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type AgentProcess, type AgentRuntime, startAgent } from "../helpers/agent-process.ts";
import {
  HAPROXY_VERSIONS,
  haproxyLabel,
  type HaproxyProcess,
  spoeFrontendConfig,
  startHaproxy,
  TEST_SPOE_CONFIG,
  waitForAgentUp,
  writeTempFiles,
} from "../helpers/haproxy.ts";
import { freePort, waitFor } from "../helpers/ports.ts";
import { scrape, sumOf } from "../helpers/prometheus.ts";

const RELOADS = 10;
const RELOAD_PAUSE_MS = 100;
// wrk runs until stopped (SIGINT makes it print its results): the reloads, however slow, all
// happen under load. The duration is only a bound.
const LOAD_BOUND_SECONDS = 120;
// 10,000 decisions/s with a 100 s burst: wrk's single client address is never denied for long,
// and a 429 is a decision too.
const RATE = ["--rate-interval", "100", "--rate-burst", "100000000"];
/** What counts as a normal end of an SPOP connection (src/agent/events.ts CloseReason). */
const NORMAL_CLOSES = new Set(["peer-closed", "haproxy-disconnect", "drained"]);

// Counts responses by status in each wrk thread and prints them once at the end.
const WRK_SCRIPT = `
ok, limited, other = 0, 0, 0
response = function(status, headers, body)
  if status == 200 then ok = ok + 1 elseif status == 429 then limited = limited + 1 else other = other + 1 end
end
local threads = {}
setup = function(thread) table.insert(threads, thread) end
done = function(summary, latency, requests)
  local o, l, x = 0, 0, 0
  for _, t in ipairs(threads) do o = o + t:get("ok"); l = l + t:get("limited"); x = x + t:get("other") end
  io.write(string.format("STATUS ok=%d limited=%d other=%d\\n", o, l, x))
end
`;

const RULES = [
  'http-request return status 500 content-type text/plain string "spoe error" if { var(txn.rl.err) -m found }',
  'http-request return status 429 content-type text/plain string "Too Many Requests" if { var(sess.rl.ip_score) -m int ge 80 }',
  'http-request return status 200 content-type text/plain string "ok"',
];

interface WrkResult {
  readonly ok: number;
  readonly limited: number;
  readonly other: number;
  readonly output: string;
}

/** Starts wrk against `port`; `stop()` ends it and returns its counts. */
function startWrk(port: number, script: string): { stop(): Promise<WrkResult> } {
  const wrk = Bun.spawn(["wrk", "-t1", "-c8", `-d${LOAD_BOUND_SECONDS}s`, "-s", script, `http://127.0.0.1:${port}/`], { stdout: "pipe", stderr: "pipe" });
  const texts = Promise.all([new Response(wrk.stdout).text(), new Response(wrk.stderr).text(), wrk.exited]);
  return {
    async stop() {
      wrk.kill("SIGINT");
      const [out, err] = await texts;
      const match = /STATUS ok=(\d+) limited=(\d+) other=(\d+)/.exec(out);
      if (!match) throw new Error(`wrk printed no status counts:\n${out}\n${err}`);
      return { ok: Number(match[1]), limited: Number(match[2]), other: Number(match[3]), output: out };
    },
  };
}

for (const version of HAPROXY_VERSIONS) {
  for (const runtime of ["bun", "deno", "binary"] as const satisfies readonly AgentRuntime[]) {
    describe(`${RELOADS} master-worker reloads under load under ${runtime} behind ${haproxyLabel(version)}`, () => {
      let agent: AgentProcess;
      let haproxy: HaproxyProcess;
      let metricsPort = 0;
      let frontendPort = 0;
      let files: Record<string, string>;

      beforeAll(async () => {
        const agentPort = await freePort();
        metricsPort = await freePort();
        frontendPort = await freePort();
        agent = await startAgent({
          runtime,
          args: ["serve", "--listen", `127.0.0.1:${agentPort}`, "--metrics", `127.0.0.1:${metricsPort}`, "--log-level", "debug", ...RATE],
        });
        files = writeTempFiles({ "spoe.conf": TEST_SPOE_CONFIG, "count.lua": WRK_SCRIPT });
        const cfg = writeTempFiles({ "haproxy.cfg": spoeFrontendConfig({ version, frontendPort, server: `127.0.0.1:${agentPort}`, spoeFile: files["spoe.conf"], rules: RULES }) });
        haproxy = await startHaproxy({ version, configFile: cfg["haproxy.cfg"], waitPort: frontendPort, masterWorker: true });
        await waitForAgentUp(haproxy, "be_spoa", "spoa1");
      }, 60_000);

      afterAll(async () => {
        await haproxy?.stop();
        await agent?.stop();
      });

      test("every request served got a decision, no agent warning or error, every connection closed normally", async () => {
        const load = startWrk(frontendPort, files["count.lua"]);
        await Bun.sleep(500);
        let signals = 0;
        for (let i = 0; i < RELOADS; i++) {
          signals += await haproxy.reload();
          await Bun.sleep(RELOAD_PAUSE_MS);
        }
        await Bun.sleep(300);
        const wrk = await load.stop();
        const answered = wrk.ok + wrk.limited;
        // The old workers finish and close their SPOP connections once their last request is done.
        const closes = () => agent.logs().filter((l) => l.msg === "connection closed");
        await waitFor("the old workers' SPOP connections to close", () => closes().length > 0, 10_000);
        const decided = sumOf(await scrape(metricsPort), "spoa_decisions_total");
        const reasons: Record<string, number> = {};
        for (const line of closes()) reasons[String(line.reason)] = (reasons[String(line.reason)] ?? 0) + 1;
        const reloadsSeen = (haproxy.output().match(/Reloading HAProxy/g) ?? []).length;
        console.log(
          `${haproxyLabel(version)}, ${runtime}: ${answered} answered (${wrk.limited} × 429), ${wrk.other} other, ${decided} decisions, ` +
            `${reloadsSeen} reloads (${signals} SIGUSR2), connection closes ${JSON.stringify(reasons)}`,
        );

        expect(reloadsSeen).toBeGreaterThanOrEqual(RELOADS);
        expect(answered).toBeGreaterThan(0);
        expect(wrk.other).toBe(0);
        expect(decided).toBeGreaterThanOrEqual(answered);
        expect(agent.logs().filter((l) => l.level === "warn" || l.level === "error")).toEqual([]);
        expect(Object.keys(reasons).filter((r) => !NORMAL_CLOSES.has(r))).toEqual([]);
      }, 60_000);
    });
  }
}
