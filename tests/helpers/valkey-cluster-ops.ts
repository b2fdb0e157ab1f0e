// What an operator does to a running Valkey Cluster, for the e2e tests: add a replica to a
// primary, move slots between primaries with valkey-cli --cluster reshard, promote a replica
// with CLUSTER FAILOVER, and ask who owns a slot.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { waitFor } from "./ports.ts";
import { startValkey, type ValkeyCluster, valkeyCommand, type ValkeyProcess, type ValkeyVersion } from "./valkey.ts";

/** The node's cluster id. */
export async function nodeId(node: ValkeyProcess): Promise<string> {
  return (await node.cli("CLUSTER", "MYID")).trim();
}

async function clusterCli(version: ValkeyVersion, args: readonly string[]): Promise<string> {
  const child = Bun.spawn([valkeyCommand("valkey-cli", version), ...args], { stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  if (code !== 0) throw new Error(`valkey-cli ${args.slice(0, 2).join(" ")} failed (${code}): ${err}${out.slice(-2000)}`);
  return out;
}

/** Starts a cluster-enabled server in `dir`, joins it as a replica of `primary`, waits until it is in sync. */
export async function addReplica(cluster: ValkeyCluster, primary: ValkeyProcess, version: ValkeyVersion, dir: string): Promise<ValkeyProcess> {
  mkdirSync(dir, { recursive: true });
  const replica = await startValkey({ cluster: true, version }, dir);
  await clusterCli(version, [
    "--cluster", "add-node", `127.0.0.1:${replica.port}`, `127.0.0.1:${primary.port}`,
    "--cluster-slave", "--cluster-master-id", await nodeId(primary),
  ]);
  await waitFor("the replica in sync", async () => (await replica.cli("INFO", "replication")).includes("master_link_status:up"), 15_000);
  await cluster.waitOk([...cluster.nodes, replica]);
  return replica;
}

/** Moves `slots` slots from `from` to `to` with valkey-cli --cluster reshard (the lowest slots of `from` first). */
export async function reshard(version: ValkeyVersion, from: ValkeyProcess, to: ValkeyProcess, slots: number): Promise<string> {
  return await clusterCli(version, [
    "--cluster", "reshard", `127.0.0.1:${from.port}`,
    "--cluster-from", await nodeId(from), "--cluster-to", await nodeId(to), "--cluster-slots", String(slots), "--cluster-yes",
  ]);
}

/** The port of the primary that owns `slot`, as `node` sees the cluster. */
export async function slotOwnerPort(node: ValkeyProcess, slot: number): Promise<number> {
  const lines = (await node.cli("CLUSTER", "SLOTS")).split("\n");
  // Flat valkey-cli output: from, to, then ip, port, id of the primary, then replicas.
  for (let i = 0; i + 3 < lines.length; i++) {
    const from = Number(lines[i]);
    const to = Number(lines[i + 1]);
    if (lines[i + 2] === "127.0.0.1" && /^\d+$/.test(lines[i]) && /^\d+$/.test(lines[i + 1]) && slot >= from && slot <= to) return Number(lines[i + 3]);
  }
  throw new Error(`no owner of slot ${slot}`);
}

/** A subdirectory of the cluster's temp dir for an extra node. */
export function extraNodeDir(cluster: ValkeyCluster, name: string): string {
  return join(cluster.nodes[0].dir, "..", name);
}
