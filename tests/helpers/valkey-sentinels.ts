// A production-shaped Sentinel deployment on loopback: one primary, one replica and three
// sentinels with quorum 2, so a failover needs a majority as it does in production (the single
// sentinel of startSentinelGroup cannot lose a vote). Used by the failover e2e test and the soak.
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { waitFor } from "./ports.ts";
import { type SentinelProcess, startSentinel, startValkey, tempDir, type ValkeyProcess, type ValkeyVersion } from "./valkey.ts";

/** How quickly the sentinels act: a primary silent this long is down (then the quorum votes). */
export const DOWN_AFTER_MS = 1_000;

/** Primary, replica and three sentinels; which server is primary changes with each failover. */
export interface SentinelTrio {
  readonly masterName: string;
  /** Both data servers (the first started as primary). */
  readonly servers: readonly ValkeyProcess[];
  readonly sentinels: readonly SentinelProcess[];
  /** "127.0.0.1:port" of every sentinel, as VALKEY_SENTINELS takes them. */
  readonly sentinelList: string;
  /** The server the sentinels name as primary now. */
  primary(): Promise<ValkeyProcess>;
  /** The other server. */
  replica(): Promise<ValkeyProcess>;
  /** Waits until the sentinels name a primary other than `old` and it answers ROLE master. */
  waitForNewPrimary(old: ValkeyProcess, timeoutMs?: number): Promise<ValkeyProcess>;
  /** Waits until the replica's link to the primary is up and every sentinel knows both servers and its peers. */
  waitSettled(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** Starts the trio of Valkey `version` in `dir` and waits until it is settled. */
export async function startSentinelTrio(version: ValkeyVersion = "8", dir = tempDir("spoa-sentinels-")): Promise<SentinelTrio> {
  const masterName = "spoa";
  const sub = (name: string) => {
    const d = join(dir, name);
    mkdirSync(d, { recursive: true });
    return d;
  };
  const servers: ValkeyProcess[] = [];
  const sentinels: SentinelProcess[] = [];
  const stop = async () => {
    await Promise.all(sentinels.map((s) => s.stop()));
    await Promise.all(servers.map((s) => s.stop()));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    servers.push(await startValkey({ version }, sub("a")));
    servers.push(await startValkey({ version, replicaOf: servers[0].port }, sub("b")));
    for (let i = 0; i < 3; i++) {
      sentinels.push(await startSentinel(version, sub(`sentinel${i}`), [
        `sentinel monitor ${masterName} 127.0.0.1 ${servers[0].port} 2`,
        `sentinel down-after-milliseconds ${masterName} ${DOWN_AFTER_MS}`,
        `sentinel failover-timeout ${masterName} 3000`,
      ]));
    }
  } catch (error) {
    await stop();
    throw error;
  }
  const byPort = (port: number) => {
    const server = servers.find((s) => s.port === port);
    if (server === undefined) throw new Error(`the sentinels name an unknown primary on port ${port}`);
    return server;
  };
  const primary = async () => {
    const out = await sentinels[0].cli("SENTINEL", "GET-MASTER-ADDR-BY-NAME", masterName);
    return byPort(Number(out.split("\n")[1]));
  };
  const other = (server: ValkeyProcess) => servers.find((s) => s !== server) as ValkeyProcess;
  const waitSettled = async (timeoutMs = 20_000) => {
    await waitFor("the sentinel trio to settle", async () => {
      const p = await primary();
      if (!(await other(p).cli("INFO", "replication")).includes("master_link_status:up")) return false;
      for (const s of sentinels) {
        const master = await s.cli("SENTINEL", "MASTER", masterName);
        const fields = master.split("\n");
        const field = (name: string) => fields[fields.indexOf(name) + 1];
        if (field("port") !== String(p.port) || field("num-slaves") !== "1" || field("num-other-sentinels") !== "2") return false;
        if (!field("flags").startsWith("master") || field("flags").includes("down")) return false;
      }
      return true;
    }, timeoutMs);
  };
  await waitSettled().catch(async (error) => {
    await stop();
    throw error;
  });
  return {
    masterName,
    servers,
    sentinels,
    sentinelList: sentinels.map((s) => `127.0.0.1:${s.port}`).join(","),
    primary,
    replica: async () => other(await primary()),
    waitForNewPrimary: async (old, timeoutMs = 20_000) => {
      let found: ValkeyProcess | undefined;
      await waitFor("the sentinels to promote the replica", async () => {
        const p = await primary();
        if (p === old || !(await p.cli("ROLE")).startsWith("master")) return false;
        found = p;
        return true;
      }, timeoutMs);
      return found as ValkeyProcess;
    },
    waitSettled,
    stop,
  };
}
