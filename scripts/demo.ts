/**
 * `npm run demo`: the agent and a real HAProxy with the shipped config
 * (deploy/haproxy/haproxy.cfg + spoe-ratelimit.conf) on free loopback ports, a burst of requests
 * from one client, and what came back: the 200/429 counts, the rate-limit headers, the agent's
 * counters. Everything it starts, it stops.
 *
 *   npm run demo                          (bun run scripts/demo.ts)
 *   HAPROXY=/path/to/haproxy npm run demo (another HAProxy than the one on PATH, /usr/sbin or
 *                                         the test environment's; see demo-haproxy.ts)
 * @module
 */
import { resolve } from "node:path";
import type { Subprocess } from "bun";
import { httpRequest, type HttpResponse } from "../tests/helpers/http-client.ts";
import { freePort, waitFor } from "../tests/helpers/ports.ts";
import { chooseHaproxy } from "./demo-haproxy.ts";

const ROOT = resolve(import.meta.dir, "..");
/** One request per second per client, and a burst of 10 at once: the burst below shows both. */
const LIMIT_ENV = { SPOA_RATE_INTERVAL: "1000000", SPOA_RATE_BURST: "9000000" } as const;
const BURST = 15;
const STEP_TIMEOUT_MS = 15_000;
const WARM_UP = 4;

interface Started {
  readonly child: Subprocess<"ignore", "pipe", "pipe">;
  output: string;
}

function start(command: string[], env: Record<string, string>): Started {
  const child = Bun.spawn(command, { cwd: ROOT, env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...env }, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const started: Started = { child, output: "" };
  for (const stream of [child.stdout, child.stderr]) {
    void (async () => {
      const decoder = new TextDecoder();
      for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) started.output += decoder.decode(chunk, { stream: true });
    })();
  }
  return started;
}

async function stop(started: Started | undefined): Promise<void> {
  if (started === undefined || started.child.exitCode !== null) return;
  started.child.kill("SIGTERM");
  const exited = await Promise.race([started.child.exited.then(() => true), Bun.sleep(5_000).then(() => false)]);
  if (!exited) started.child.kill("SIGKILL");
}

/** The rate-limit headers of a response, as one line. */
function headerLine(response: HttpResponse): string {
  const shown = ["retry-after", "ratelimit", "ratelimit-policy"].filter((name) => response.headers.has(name));
  const names: Record<string, string> = { "retry-after": "Retry-After", ratelimit: "RateLimit", "ratelimit-policy": "RateLimit-Policy" };
  return shown.map((name) => `${names[name]}: ${response.headers.get(name)}`).join("   ");
}

/** The agent's allow/deny counters, by series name with labels. */
async function decisionCounters(metricsPort: number): Promise<Map<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  const counters = new Map<string, number>();
  for (const match of text.matchAll(/^(spoa_decisions_total\{[^}]*result="(?:allow|deny)"\}) (\d+)$/gm)) counters.set(match[1], Number(match[2]));
  return counters;
}

async function main(): Promise<number> {
  const choice = chooseHaproxy(process.env);
  if ("problem" in choice) {
    console.error(`npm run demo: ${choice.problem}`);
    return 1;
  }
  const haproxy = choice.path;
  const [spop, metrics, frontend] = [await freePort(), await freePort(), await freePort()];
  let agent: Started | undefined;
  let proxy: Started | undefined;
  try {
    // The agent first: HAProxy's first health check of it must find it listening.
    agent = start([process.execPath, "run", "src/cli/main.ts", "serve", "--listen", `127.0.0.1:${spop}`, "--metrics", `127.0.0.1:${metrics}`], LIMIT_ENV);
    await waitFor("the agent to listen", () => agent!.output.includes('"msg":"listening"'), STEP_TIMEOUT_MS);
    const haproxyEnv = {
      FRONTEND_ADDR: `127.0.0.1:${frontend}`,
      SPOA_ADDR: `127.0.0.1:${spop}`,
      SPOE_CONF: resolve(ROOT, "deploy/haproxy/spoe-ratelimit.conf"),
      APP_BACKEND: "be_local_ok",
    };
    proxy = start([haproxy, "-db", "-f", resolve(ROOT, "deploy/haproxy/haproxy.cfg")], haproxyEnv);
    // Requests from another client address (127.0.0.2) prove the whole path — HAProxy, SPOE,
    // agent — without spending the budget of the client below (limits are per client). Several
    // in a row, so each HAProxy thread has its agent connection open before the burst: a
    // connection's first HELLO can take longer than `timeout processing` on a busy machine,
    // and HAProxy then lets the request through unanswered (fail open).
    let answered = 0;
    await waitFor("HAProxy to pass requests through the agent", async () => {
      const response = await httpRequest({ port: frontend, localAddress: "127.0.0.2" }, 2_000);
      answered = response.headers.has("ratelimit") ? answered + 1 : 0;
      return answered >= WARM_UP;
    }, STEP_TIMEOUT_MS);

    const lines = [
      `HAProxy ${(await Bun.$`${haproxy} -v`.quiet().text()).split(" ")[2]} (${haproxy}) with deploy/haproxy/haproxy.cfg, on 127.0.0.1:${frontend}:`,
      ...Object.entries(haproxyEnv).map(([name, value]) => `  ${name}=${value.replace(ROOT + "/", "")}`),
      `spoa-gcra on 127.0.0.1:${spop} (metrics 127.0.0.1:${metrics}) with the default limit set by`,
      `  SPOA_RATE_INTERVAL=${LIMIT_ENV.SPOA_RATE_INTERVAL} SPOA_RATE_BURST=${LIMIT_ENV.SPOA_RATE_BURST}: one request per second per client, 10 at once`,
      "",
      `${BURST} requests from one client (127.0.0.1), one after another:`,
    ];
    const before = await decisionCounters(metrics);
    const counts = new Map<number, number>();
    const firstOf = new Map<number, HttpResponse>();
    let unanswered = 0;
    for (let i = 0; i < BURST; i++) {
      const response = await httpRequest({ port: frontend, localAddress: "127.0.0.1" });
      // No RateLimit header: the agent's answer did not arrive within `timeout processing`.
      if (!response.headers.has("ratelimit")) unanswered++;
      counts.set(response.status, (counts.get(response.status) ?? 0) + 1);
      if (!firstOf.has(response.status)) firstOf.set(response.status, response);
    }
    for (const [status, count] of [...counts].sort((a, b) => a[0] - b[0])) lines.push(`  ${status}: ${count}`);
    if (unanswered > 0) lines.push(`  (${unanswered} passed without the agent's answer: HAProxy's timeout processing expired and it failed open; the machine is busy)`);
    lines.push("", "Headers HAProxy sent (first of each status):");
    for (const [status, response] of [...firstOf].sort((a, b) => a[0] - b[0])) lines.push(`  ${status}  ${headerLine(response)}`);
    const after = await decisionCounters(metrics);
    lines.push("", `What the agent counted for the burst (curl -s http://127.0.0.1:${metrics}/metrics):`);
    for (const [series, value] of after) lines.push(`  ${series} +${value - (before.get(series) ?? 0)}`);
    console.log(lines.join("\n"));
    return 0;
  } catch (error) {
    console.error(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
    if (agent) console.error(`--- agent output ---\n${agent.output}`);
    if (proxy) console.error(`--- haproxy output ---\n${proxy.output}`);
    return 1;
  } finally {
    await stop(proxy);
    await stop(agent);
  }
}

process.exit(await main());
