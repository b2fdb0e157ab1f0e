/**
 * One logical connection to Valkey in any topology (standalone, cluster, sentinel), reduced to
 * what the store needs: send a command routed by key, ping, close. node-redis pipelines every
 * command written in the same tick on a connection, so many in-flight decisions share it.
 * @module
 */
import { createClient, createCluster, createSentinel } from "redis";
import { ValkeyStoreError } from "./errors.ts";
import { keySlot } from "./slot.ts";
import { baseClientOptions, reconnectDelayMs, type Topology, type ValkeyStoreOptions } from "./options.ts";

/** A connection of any topology. */
export interface ValkeyConnection {
  /** Sends `args`; in a cluster it goes to the node owning `routeKey`'s slot. */
  send(routeKey: string, args: string[]): Promise<unknown>;
  /** The node that owns `routeKey`: a cluster's primary for its slot ("host:port"); "" for one node or while unknown. */
  nodeOf(routeKey: string): string;
  ping(): Promise<unknown>;
  /**
   * Calls `listener` with each message published on `channel`, on a connection of its own that
   * (re)subscribes whenever it (re)connects; resolves without waiting for Valkey to be up.
   */
  subscribe(channel: string, listener: (message: string) => void): Promise<void>;
  close(): Promise<void>;
}

/** Where connection trouble is reported (`kind` names the source, for throttled logs). */
export type ErrorSink = (kind: string, error: unknown) => void;

interface Connectable {
  connect(): Promise<unknown>;
  on(event: "error", listener: (error: unknown) => void): unknown;
}

/**
 * Connects in the background, retrying with backoff when the whole connect fails (cluster and
 * sentinel discovery give up after one round; a standalone client retries by itself).
 * Resolves once ready or after `waitMs`, whichever is first, so a Valkey that is down at start
 * does not block the agent: the failure policy decides until it comes up.
 */
function startConnecting(
  target: Connectable,
  options: { kind: string; onError: ErrorSink; waitMs: number; isClosed: () => boolean },
): Promise<void> {
  target.on("error", (error) => options.onError(options.kind, error));
  let attempt = 0;
  const ready = new Promise<void>((resolve) => {
    const tryConnect = (): void => {
      target.connect().then(() => resolve(), (error: unknown) => {
        if (options.isClosed()) return resolve();
        options.onError(`${options.kind}-connect`, error);
        setTimeout(tryConnect, reconnectDelayMs(attempt++));
      });
    };
    tryConnect();
  });
  return Promise.race([ready, new Promise<void>((resolve) => setTimeout(resolve, options.waitMs))]);
}

/** The address of the primary serving `key`'s slot, "" while the slot map does not know it. */
function slotPrimary(cluster: { getSlotMaster(slot: number): { readonly address?: string } | undefined }, key: string): string {
  try {
    return cluster.getSlotMaster(keySlot(key))?.address ?? "";
  } catch {
    return ""; // no slot map yet (discovery in progress): one breaker until it is known
  }
}

/** Opens one connection for `topology`; waits at most `waitMs` for it to become ready. */
export async function openConnection(
  topology: Topology,
  options: {
    store: ValkeyStoreOptions;
    onError: ErrorSink;
    waitMs: number;
    /** Sent whenever a standalone connection becomes ready (again): a restarted Valkey has lost its script cache. */
    warmup?: readonly string[];
  },
): Promise<ValkeyConnection> {
  const { store, onError, waitMs, warmup } = options;
  let closed = false;
  const isClosed = () => closed;
  const notReady = () => Promise.reject(new ValkeyStoreError("unavailable", "Valkey connection is not ready"));

  if (topology.kind === "standalone") {
    const base = baseClientOptions(store, topology.tls, true);
    const client = createClient({
      ...base,
      database: topology.db,
      socket: { ...base.socket, host: topology.host, port: topology.port },
    } as Parameters<typeof createClient>[0]);
    if (warmup !== undefined) {
      client.on("ready", () => void client.sendCommand([...warmup]).catch((error: unknown) => onError("standalone-warmup", error)));
    }
    await startConnecting(client, { kind: "standalone", onError, waitMs, isClosed });
    // A subscribed connection can do nothing else, so each subscription gets its own.
    const subscribers: (typeof client)[] = [];
    return {
      send: (_key, args) => client.isOpen ? client.sendCommand(args) : notReady(),
      nodeOf: () => "",
      ping: () => client.isOpen ? client.ping() : notReady(),
      subscribe: async (channel, listener) => {
        const sub = client.duplicate();
        subscribers.push(sub);
        await startConnecting({
          connect: async () => {
            if (!sub.isOpen) await sub.connect();
            try {
              await sub.subscribe(channel, listener);
            } catch (error) {
              // An ACL without the channel will not change by retrying: say so once and stop.
              if (!/NOPERM/i.test(error instanceof Error ? error.message : String(error))) throw error;
              onError("standalone-subscriber-noperm", error);
              sub.destroy();
            }
          },
          on: (e, l) => sub.on(e, l),
        }, { kind: "standalone-subscriber", onError, waitMs: 0, isClosed });
      },
      close: async () => {
        closed = true;
        if (client.isOpen) client.destroy();
        for (const sub of subscribers) if (sub.isOpen) sub.destroy();
      },
    };
  }

  if (topology.kind === "cluster") {
    const base = baseClientOptions(store, topology.tls, true);
    const cluster = createCluster({
      rootNodes: topology.seeds.map((s) => ({ ...base, socket: { ...base.socket, host: s.host, port: s.port } })),
      defaults: base,
      // Refresh the slot map soon after a node drops, so a restarted primary is found again.
      topologyRefreshOnReconnectionAttemptStrategy: 1000,
    } as Parameters<typeof createCluster>[0]);
    let ready = false;
    // Not Promise.withResolvers: Node 20 lacks it.
    let nowReady = (): void => {};
    const whenReady = new Promise<void>((resolve) => (nowReady = resolve));
    await startConnecting({
      connect: async () => {
        await cluster.connect();
        ready = true;
        nowReady();
      },
      on: (e, l) => cluster.on(e, l),
    }, { kind: "cluster", onError, waitMs, isClosed });
    return {
      send: (key, args) => ready ? cluster.sendCommand(key, false, args) : notReady(),
      nodeOf: (key) => (ready ? slotPrimary(cluster, key) : ""),
      ping: () => ready ? cluster.sendCommand(undefined, true, ["PING"]) : notReady(),
      // The cluster client keeps one pub/sub connection and resubscribes after a failover.
      subscribe: (channel, listener) => {
        void whenReady.then(() => cluster.subscribe(channel, listener)).catch((error: unknown) => onError("cluster-subscriber", error));
        return Promise.resolve();
      },
      close: async () => {
        closed = true;
        if (ready) cluster.destroy();
      },
    };
  }

  const node = baseClientOptions(store, store.tls !== undefined, true);
  const sentinelNode = baseClientOptions(store, store.tls !== undefined, false);
  const sentinel = createSentinel({
    name: topology.masterName,
    sentinelRootNodes: topology.sentinels.map((s) => ({ host: s.host, port: s.port })),
    nodeClientOptions: node,
    sentinelClientOptions: sentinelNode,
    masterPoolSize: 1,
    scanInterval: 1000,
    passthroughClientErrorEvents: true,
  } as Parameters<typeof createSentinel>[0]);
  let ready = false;
  let nowReady = (): void => {};
  const whenReady = new Promise<void>((resolve) => (nowReady = resolve));
  await startConnecting({
    connect: async () => {
      await sentinel.connect();
      ready = true;
      nowReady();
    },
    on: (e, l) => sentinel.on(e, l),
  }, { kind: "sentinel", onError, waitMs, isClosed });
  return {
    send: (_key, args) => ready ? sentinel.sendCommand(false, args) : notReady(),
    nodeOf: () => "",
    ping: () => ready ? sentinel.sendCommand(false, ["PING"]) : notReady(),
    // The sentinel client keeps a pub/sub connection to the current master and moves it on failover.
    subscribe: (channel, listener) => {
      void whenReady.then(() => sentinel.subscribe(channel, listener)).catch((error: unknown) => onError("sentinel-subscriber", error));
      return Promise.resolve();
    },
    close: async () => {
      closed = true;
      if (ready) await sentinel.destroy();
    },
  };
}
