// The library's example agent (examples/ip-reputation/agent.ts) behind a real HAProxy, under Bun,
// Deno and Node: a client on its reputation list is denied by `ip_score ge 80`, another client
// passes with the score the agent sent (0), and `option spop-check` sees the agent UP.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { resolve } from "node:path";
import {
  type HaproxyProcess,
  isListening,
  spoeFrontendConfig,
  startHaproxy,
  TEST_SPOE_CONFIG,
  waitForAgentUp,
  writeTempFiles,
} from "../helpers/haproxy.ts";
import { httpRequest } from "../helpers/http-client.ts";
import { buildForNode, type NodeBundle } from "../helpers/node-build.ts";
import { freePort, waitFor } from "../helpers/ports.ts";

const ROOT = resolve(import.meta.dir, "../..");
const AGENT = "examples/ip-reputation/agent.ts";
const RUNTIMES = ["bun", "deno", "node"] as const;

const RULES = [
  `http-request return status 429 content-type text/plain lf-string "denied %[var(sess.rl.ip_score)]" if { var(sess.rl.ip_score) -m int ge 80 }`,
  `http-request return status 200 content-type text/plain lf-string "score %[var(sess.rl.ip_score)]"`,
];

/** The command that runs the example under `runtime`; Node 20 runs a bundle of it. */
function command(runtime: (typeof RUNTIMES)[number], bundle: NodeBundle | undefined): string[] {
  if (runtime === "bun") return [resolve(ROOT, "node_modules/.bin/bun"), AGENT];
  if (runtime === "deno") return [resolve(ROOT, "node_modules/.bin/deno"), "run", "--allow-net", "--allow-env", AGENT];
  return ["node", (bundle as NodeBundle).file];
}

for (const runtime of RUNTIMES) {
  describe(`the ip-reputation example under ${runtime} behind HAProxy`, () => {
    let agent: ReturnType<typeof Bun.spawn> | undefined;
    let bundle: NodeBundle | undefined;
    let haproxy: HaproxyProcess | undefined;
    let output: Promise<string> = Promise.resolve("");
    let frontendPort = 0;

    beforeAll(async () => {
      const agentPort = await freePort();
      frontendPort = await freePort();
      if (runtime === "node") bundle = buildForNode(AGENT);
      agent = Bun.spawn(command(runtime, bundle), {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", SPOE_ADDR: `127.0.0.1:${agentPort}` },
        stdout: "pipe",
        stderr: "pipe",
      });
      const streams = [agent.stdout, agent.stderr].map((stream) => new Response(stream as ReadableStream).text());
      output = Promise.all(streams).then((texts) => texts.join(""));
      await waitFor(`the example agent under ${runtime} to listen`, () => isListening(agentPort), 20_000);
      const files = writeTempFiles({ "spoe.conf": TEST_SPOE_CONFIG });
      const config = spoeFrontendConfig({ frontendPort, server: `127.0.0.1:${agentPort}`, spoeFile: files["spoe.conf"], rules: RULES });
      const cfg = writeTempFiles({ "haproxy.cfg": config });
      haproxy = await startHaproxy({ configFile: cfg["haproxy.cfg"], waitPort: frontendPort });
    }, 60_000);

    afterAll(async () => {
      await haproxy?.stop();
      agent?.kill("SIGTERM");
      await agent?.exited;
      bundle?.remove();
    });

    test("option spop-check sees the agent UP (L7OK)", async () => {
      const stat = await waitForAgentUp(haproxy as HaproxyProcess, "be_spoa", "spoa1");
      expect([stat.status, stat.checkStatus]).toEqual(["UP", "L7OK"]);
    }, 30_000);

    test("a listed client (127.0.0.2, score 95) gets 429; an unlisted one (127.0.0.1) gets 200 with score 0", async () => {
      const listed = await httpRequest({ port: frontendPort, localAddress: "127.0.0.2" });
      const unlisted = await httpRequest({ port: frontendPort, localAddress: "127.0.0.1" });
      expect([listed.status, listed.body]).toEqual([429, "denied 95"]);
      expect([unlisted.status, unlisted.body]).toEqual([200, "score 0"]);
    }, 30_000);

    test("SIGTERM drains and exits 0", async () => {
      agent?.kill("SIGTERM");
      expect(await agent?.exited).toBe(0);
      expect(await output).toContain(`ip-reputation agent (${runtime}) listening on 127.0.0.1:`);
    }, 30_000);
  });
}
