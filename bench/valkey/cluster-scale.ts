/**
 * The Valkey path as a cluster grows: one 3-primary Valkey Cluster (no replicas: on a 2-core
 * machine they would only take CPU from the primaries), 1, 2, 4 and 8 agents (compiled binary,
 * VALKEY_NODES), each driven by its own SPOP load generator (closed loop, 4 connections × 20 in
 * flight, 100,000 client keys). Per agent count: decisions/s, agent CPU µs per decision (summed
 * over agents), Valkey CPU µs per decision (INFO cpu of the 3 primaries), connections per
 * shard (CLIENT LIST: all, and the lean script sockets), and the worst agent's p99.
 *
 *   bun run bench/valkey/cluster-scale.ts [--agent dist/spoa-gcra] [--agents 1,2,4,8] [--duration 3s] [--version 8|9]
 * @module
 */
import { parseArgs } from "node:util";
import { SCRIPT_CLIENT_NAME } from "../../src/ratelimit/valkey/pipeline/script-socket.ts";
import { startCluster, type ValkeyVersion } from "../../tests/helpers/valkey.ts";
import type { LoadResult } from "../load/run.ts";
import { BUN, freePort, ROOT, runToEnd, start, stopAll, waitForPort } from "../lib/processes.ts";

const { values } = parseArgs({
  options: {
    agent: { type: "string", default: `${ROOT}dist/spoa-gcra` },
    agents: { type: "string", default: "1,2,4,8" },
    duration: { type: "string", default: "3s" },
    version: { type: "string", default: "8" },
  },
});
const cluster = await startCluster(undefined, values.version as ValkeyVersion);

async function valkeyCpuS(): Promise<number> {
  let sum = 0;
  for (const node of cluster.nodes) {
    const info = await node.cli("INFO", "cpu");
    for (const f of ["used_cpu_sys", "used_cpu_user"]) sum += Number(new RegExp(`${f}:([0-9.]+)`).exec(info)?.[1] ?? 0);
  }
  return sum;
}

async function connectionsPerShard(): Promise<{ all: number[]; lean: number[] }> {
  const lists = await Promise.all(cluster.nodes.map((n) => n.cli("CLIENT", "LIST")));
  // Minus the CLIENT LIST connection of valkey-cli itself.
  return {
    all: lists.map((l) => l.split("\n").filter((line) => line.startsWith("id=")).length - 1),
    lean: lists.map((l) => l.split("\n").filter((line) => line.includes(`name=${SCRIPT_CLIENT_NAME}`)).length),
  };
}

interface Row {
  readonly agents: number;
  readonly perS: number;
  readonly agentUs: number;
  readonly valkeyUs: number;
  readonly p99Ms: number;
  readonly shards: { all: number[]; lean: number[] };
  readonly unanswered: number;
}

async function scenario(count: number): Promise<Row> {
  const agents = [];
  for (let i = 0; i < count; i++) {
    const port = freePort();
    const child = start(`agent-${i}`, [values.agent!, "serve", "--listen", `127.0.0.1:${port}`, "--metrics", "off"], {
      VALKEY_NODES: cluster.urls.join(","),
      SPOA_RATE_INTERVAL: "1",
      SPOA_RATE_BURST: "1000000000",
      LOG_LEVEL: "warn",
    });
    if (!(await waitForPort(port, 10_000))) throw new Error(`agent ${i} did not listen:\n${child.output()}`);
    agents.push({ child, port });
  }
  const v0 = await valkeyCpuS();
  let shards = { all: [0, 0, 0], lean: [0, 0, 0] };
  const sample = setTimeout(async () => (shards = await connectionsPerShard()), 2000);
  const results = await Promise.all(agents.map(({ child, port }) =>
    runToEnd([
      BUN, "run", `${ROOT}bench/load/main.ts`, "--target", `127.0.0.1:${port}`, "--mode", "closed", "--connections", "4", "--pipeline", "20",
      "--duration", values.duration!, "--keys", "100000", "--agent-pid", String(child.pid), "--json",
    ], 60_000).then((r) => JSON.parse(r.stdout.slice(r.stdout.indexOf("{"))) as LoadResult)
  ));
  clearTimeout(sample);
  const valkeyS = (await valkeyCpuS()) - v0;
  for (const { child } of agents) await child.stop();
  const acks = results.reduce((n, r) => n + r.acks, 0);
  const seconds = Math.max(...results.map((r) => r.measuredSeconds));
  // The load generators' warm-up second also reaches Valkey: scale its CPU to the measured share.
  const agentCpu = results.reduce((s, r) => s + (r.cpuSeconds.agent ?? 0), 0);
  return {
    agents: count,
    perS: acks / seconds,
    agentUs: (agentCpu * 1e6) / acks,
    valkeyUs: (valkeyS * 1e6) / (acks * (1 + 1 / seconds)),
    p99Ms: Math.max(...results.map((r) => r.latencyUs.p99Us)) / 1000,
    shards,
    unanswered: results.reduce((n, r) => n + r.unanswered, 0),
  };
}

try {
  const rows: Row[] = [];
  for (const count of values.agents!.split(",").map(Number)) rows.push(await scenario(count));
  console.log(`Valkey ${values.version} cluster, 3 primaries, ${values.duration} per scenario, closed loop 4×20 per agent`);
  console.log("| agents | decisions/s | agent CPU µs/decision | Valkey CPU µs/decision | connections per shard (lean) | worst p99 ms | unanswered |");
  console.log("|---:|---:|---:|---:|---|---:|---:|");
  for (const r of rows) {
    console.log(`| ${r.agents} | ${Math.round(r.perS).toLocaleString("en")} | ${r.agentUs.toFixed(2)} | ${r.valkeyUs.toFixed(2)} | ${r.shards.all.join(" / ")} (${r.shards.lean.join(" / ")}) | ${r.p99Ms.toFixed(1)} | ${r.unanswered} |`);
  }
} finally {
  await stopAll();
  await cluster.stop();
}
