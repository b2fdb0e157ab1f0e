// HAProxy started before the agent (or an agent restarted): with the shipped configs' checks
// (`check inter 5s fastinter 500ms downinter 1s`) the agent is UP within a few seconds of it
// listening, not after `rise` × `inter` (10 s with the former `check inter 5s`), while requests
// pass undecided. Real HAProxy (oldest and newest), the shipped haproxy.cfg as it is.
import { afterAll, describe, expect, test } from "bun:test";
import { resolve } from "node:path";
import { type AgentProcess, startAgent } from "../helpers/agent-process.ts";
import { HAPROXY_VERSIONS, haproxyLabel, type HaproxyProcess, startHaproxy, waitForAgentUp } from "../helpers/haproxy.ts";
import { freePort, waitFor } from "../helpers/ports.ts";

const ROOT = resolve(import.meta.dir, "../..");
/** Twice the shipped downinter + fastinter (1.5 s), for a busy machine; the former config needed up to 10 s. */
const UP_WITHIN_MS = 4_000;
const started: { stop(): Promise<unknown> }[] = [];

afterAll(async () => {
  for (const s of started.reverse()) await s.stop();
});

for (const version of [HAPROXY_VERSIONS[0], HAPROXY_VERSIONS.at(-1)!].filter((v, i, all) => all.indexOf(v) === i)) {
  describe(`shipped haproxy.cfg behind ${haproxyLabel(version)}, HAProxy started first`, () => {
    test(`the agent is UP within ${UP_WITHIN_MS / 1000} s of listening`, async () => {
      const [spop, frontend] = [await freePort(), await freePort()];
      const haproxy: HaproxyProcess = await startHaproxy({
        version,
        configFile: resolve(ROOT, "deploy/haproxy/haproxy.cfg"),
        waitPort: frontend,
        env: { FRONTEND_ADDR: `127.0.0.1:${frontend}`, SPOA_ADDR: `127.0.0.1:${spop}`, SPOE_CONF: resolve(ROOT, "deploy/haproxy/spoe-ratelimit.conf"), APP_BACKEND: "be_local_ok" },
      });
      started.push(haproxy);
      // No agent yet: its first checks fail and HAProxy marks it DOWN.
      await waitFor("the agent server DOWN", async () => (await haproxy.server("be_spoa_ratelimit", "spoa")).status.startsWith("DOWN"), 20_000);
      const agent: AgentProcess = await startAgent({ runtime: "bun", args: ["serve", "--listen", `127.0.0.1:${spop}`, "--metrics", "off"] });
      started.push(agent);
      const stat = await waitForAgentUp(haproxy, "be_spoa_ratelimit", "spoa", UP_WITHIN_MS);
      expect([stat.status, stat.checkStatus]).toEqual(["UP", "L7OK"]);
    }, 60_000);
  });
}
