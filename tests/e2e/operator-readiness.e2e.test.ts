// Readiness that knows: an agent that sees no traffic still learns that Valkey is gone (a
// background PING), so /readyz turns 503 under failurePolicy deny — and says so, without failing
// readiness, under local. Real Valkey, real agent process, no requests at all.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type AgentProcess, startAgent } from "../helpers/agent-process.ts";
import { freePort, waitFor } from "../helpers/ports.ts";
import { metricSum } from "../helpers/prometheus.ts";
import { startValkey, type ValkeyProcess } from "../helpers/valkey.ts";

let valkey: ValkeyProcess;
const agents: AgentProcess[] = [];

beforeAll(async () => {
  valkey = await startValkey();
});

afterAll(async () => {
  await Promise.all(agents.map((a) => a.stop()));
  await valkey?.stop();
});

async function readyz(metrics: string): Promise<{ status: number; body: { status: string; reason?: string } }> {
  const response = await fetch(`http://${metrics}/readyz`);
  return { status: response.status, body: await response.json() };
}

async function start(policy: "deny" | "local"): Promise<string> {
  const agent = await startAgent({
    runtime: "bun",
    args: ["serve", "--listen", `127.0.0.1:${await freePort()}`, "--valkey-url", valkey.url, "--failure-policy", policy, "--metrics", "127.0.0.1:0"],
  });
  agents.push(agent);
  return String((await agent.waitForLog("listening")).metrics);
}

describe("readiness with Valkey and no traffic", () => {
  test("deny: 503 naming Valkey soon after it dies, 200 again once it is back; local: ready but says so", async () => {
    const deny = await start("deny");
    const local = await start("local");
    await waitFor("deny agent ready", async () => (await readyz(deny)).status === 200);
    expect(await readyz(local)).toEqual({ status: 200, body: { status: "ready" } });
    expect(await metricSum(local, "spoa_valkey_reachable")).toBe(1);

    await valkey.stop("SIGKILL");
    await waitFor("deny agent not ready without any request", async () => (await readyz(deny)).status === 503, 15_000);
    const down = await readyz(deny);
    expect(down.body.status).toBe("not ready");
    expect(down.body.reason).toMatch(/valkey/i);
    expect(down.body.reason).toContain("deny");
    await waitFor("local agent reports Valkey down", async () => (await readyz(local)).body.reason !== undefined, 15_000);
    expect(await metricSum(local, "spoa_valkey_reachable")).toBe(0);
    const localDown = await readyz(local);
    expect(localDown.status).toBe(200);
    expect(localDown.body.reason).toMatch(/valkey .*unreachable.*local/i);

    await valkey.restart();
    await waitFor("deny agent ready again", async () => (await readyz(deny)).status === 200, 15_000);
    await waitFor("local agent no longer reports Valkey down", async () => (await readyz(local)).body.reason === undefined, 15_000);
  }, 60_000);
});

describe("readiness when the agent starts with Valkey already down", () => {
  test("deny: /readyz is 503 naming Valkey from the moment the agent listens, never a 'ready' while the first PINGs fail", async () => {
    const agent = await startAgent({
      runtime: "bun",
      args: ["serve", "--listen", `127.0.0.1:${await freePort()}`, "--valkey-url", `redis://127.0.0.1:${await freePort()}`, "--failure-policy", "deny", "--metrics", "127.0.0.1:0"],
    });
    agents.push(agent);
    const metrics = String((await agent.waitForLog("listening")).metrics);
    for (let i = 0; i < 5; i++) {
      const answer = await readyz(metrics);
      expect(answer.status).toBe(503);
      expect(answer.body.reason).toMatch(/^valkey .*failure policy is deny$/);
      await Bun.sleep(200);
    }
  }, 30_000);
});
