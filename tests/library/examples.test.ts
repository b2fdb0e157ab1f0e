// Every agent in examples/ started as a program under Bun, Deno and Node and asked over a real
// SPOP socket (the ip-reputation agent also behind HAProxy: tests/e2e/example-agent.e2e.test.ts).
// The examples' own handler tests (examples/*/*.test.ts) run in memory with ./testing.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { resolve } from "node:path";
import type { Action } from "../../src/spop/types.ts";
import { isListening } from "../helpers/haproxy.ts";
import { buildForNode, type NodeBundle } from "../helpers/node-build.ts";
import { freePort, waitFor } from "../helpers/ports.ts";
import { connectSpop } from "../helpers/spop-socket.ts";
import { startValkey, tempDir, type ValkeyProcess } from "../helpers/valkey.ts";

const ROOT = resolve(import.meta.dir, "../..");
const RUNTIMES = ["bun", "deno", "node"] as const;
type Runtime = (typeof RUNTIMES)[number];

interface RunningExample {
  readonly spoePort: number;
  stop(): Promise<{ readonly code: number; readonly output: string }>;
}

async function startExample(example: string, runtime: Runtime, env: Record<string, string> = {}): Promise<RunningExample> {
  const entry = `examples/${example}/agent.ts`;
  const spoePort = await freePort();
  let bundle: NodeBundle | undefined;
  let command: string[];
  if (runtime === "bun") command = [resolve(ROOT, "node_modules/.bin/bun"), entry];
  else if (runtime === "deno") command = [resolve(ROOT, "node_modules/.bin/deno"), "run", "--allow-net", "--allow-env", "--allow-read", "--allow-sys", entry];
  else {
    bundle = buildForNode(entry);
    command = ["node", bundle.file];
  }
  const child = Bun.spawn(command, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", SPOE_ADDR: `127.0.0.1:${spoePort}`, ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const output = Promise.all([child.stdout, child.stderr].map((stream) => new Response(stream).text())).then((texts) => texts.join(""));
  const stop = async () => {
    child.kill("SIGTERM");
    const code = await child.exited;
    bundle?.remove();
    return { code, output: await output };
  };
  try {
    await waitFor(`examples/${example} under ${runtime} to listen`, () => isListening(spoePort), 20_000);
  } catch (error) {
    const { output: text } = await stop();
    throw new Error(`${String(error)}\n${text}`);
  }
  return { spoePort, stop };
}

const valueOf = (actions: readonly Action[], name: string) => {
  const action = actions.find((candidate) => candidate.name === name);
  return action?.type === "set-var" && "value" in action.value ? action.value.value : undefined;
};

for (const runtime of RUNTIMES) {
  describe(`examples/async-lookup under ${runtime}`, () => {
    test("answers a user's plan from the service, and the fallback when the service misses the deadline", async () => {
      const agent = await startExample("async-lookup", runtime);
      const spop = await connectSpop(agent.spoePort);
      const ask = (user: string) => spop.request([{ name: "classify", args: [{ name: "user", kind: "string", value: user }] }]);
      const [ann, slow] = await Promise.all([ask("ann"), ask("slow")]);
      spop.close();
      expect([valueOf(ann, "plan"), valueOf(slow, "plan")]).toEqual(["gold", "standard"]);
      const stopped = await agent.stop();
      expect([stopped.code, stopped.output]).toEqual([0, expect.stringContaining(`async-lookup agent (${runtime}) listening`)]);
    }, 60_000);
  });

  describe(`examples/metrics-events under ${runtime}`, () => {
    test("/metrics counts the NOTIFY it answered", async () => {
      const metricsPort = await freePort();
      const agent = await startExample("metrics-events", runtime, { METRICS_ADDR: `127.0.0.1:${metricsPort}` });
      const spop = await connectSpop(agent.spoePort);
      const actions = await spop.request([{ name: "check", args: [] }]);
      const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      spop.close();
      expect(valueOf(actions, "seen")).toBe("check");
      expect(text.split("\n")).toEqual(expect.arrayContaining(['spoa_frames_received_total{type="notify"} 1', "spoa_connections 1"]));
      expect((await agent.stop()).code).toBe(0);
    }, 60_000);
  });
}

describe("examples/valkey-rate-limit against a real Valkey", () => {
  let valkey: ValkeyProcess | undefined;
  const dir = tempDir();
  beforeAll(async () => {
    valkey = await startValkey({}, dir);
  }, 30_000);
  afterAll(async () => {
    await valkey?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const runtime of RUNTIMES) {
    test(`under ${runtime}: a client's burst of 2 passes, the third request is denied, and the state is in Valkey`, async () => {
      const server = valkey as ValkeyProcess;
      await server.cli("FLUSHALL");
      const agent = await startExample("valkey-rate-limit", runtime, { VALKEY_URL: server.url, RATE: "1/m", BURST: "2" });
      const spop = await connectSpop(agent.spoePort);
      const verdicts = [];
      for (let i = 0; i < 3; i++) verdicts.push(await spop.check(0xc0000201));
      spop.close();
      expect(verdicts.map((verdict) => [verdict.ipScore, verdict.degraded])).toEqual([[0, false], [0, false], [100, false]]);
      expect(Number((await server.cli("DBSIZE")).trim())).toBe(1);
      expect((await agent.stop()).code).toBe(0);
    }, 60_000);
  }
});
