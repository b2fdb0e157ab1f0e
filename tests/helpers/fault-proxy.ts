/**
 * A fault-injecting TCP proxy on the Toxiproxy model, for putting a network between the agent
 * and Valkey on loopback (this kernel has no netem): added latency with jitter, stalls,
 * connection resets (RST) and a blackhole that accepts and holds bytes without answering — a
 * partition, which loopback never shows. Every fault can be switched at runtime; `heal()`
 * removes them all and releases what was held, in order, the way TCP retransmission delivers
 * a partition's backlog once the path is back.
 *
 * Bytes are never dropped or reordered: a stream protocol such as RESP matches replies to
 * commands by position, so losing bytes without closing the connection is not a fault a real
 * network produces (TCP either delivers or the connection dies — use `resetAll()` for that).
 * @module
 */
import { createServer, connect, type Server, type Socket } from "node:net";
import { freePort } from "./ports.ts";
import { rng } from "./rng.ts";

/** Which way bytes travel: upstream is client → server (commands), downstream server → client (replies). */
export type Direction = "upstream" | "downstream";

/** Added delay per chunk: uniform in [ms − jitterMs, ms + jitterMs], never negative. */
export interface Latency {
  readonly ms: number;
  readonly jitterMs?: number;
}

/** Random stalls: each chunk starts a stall of `ms` (all traffic held) with `probability`. */
export interface RandomStalls {
  readonly probability: number;
  readonly ms: number;
}

/** Counters of what the proxy did, for tests that assert a fault really happened. */
export interface FaultProxyStats {
  readonly accepted: number;
  readonly open: number;
  readonly resets: number;
  readonly stalls: number;
  readonly bytes: Readonly<Record<Direction, number>>;
  /** Bytes waiting right now (latency, stall or blackhole). */
  readonly held: number;
}

/** Source sockets pause reading above this many held bytes, as a full TCP window would. */
const HIGH_WATER = 1 << 20;

interface Chunk {
  readonly bytes: Uint8Array;
  readonly dueAt: number;
}

/** One direction of one proxied connection: a FIFO released no earlier than each chunk's due time. */
class Pipe {
  readonly #queue: Chunk[] = [];
  readonly #from: Socket;
  readonly #to: Socket;
  readonly #proxy: FaultProxy;
  #queuedBytes = 0;
  #lastDue = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(proxy: FaultProxy, from: Socket, to: Socket, readonly direction: Direction) {
    this.#proxy = proxy;
    this.#from = from;
    this.#to = to;
  }

  get queuedBytes(): number {
    return this.#queuedBytes;
  }

  push(bytes: Uint8Array): void {
    // Later than every chunk before it: jitter never reorders bytes.
    const dueAt = Math.max(performance.now() + this.#proxy.delayFor(this.direction), this.#lastDue);
    this.#lastDue = dueAt;
    this.#queue.push({ bytes, dueAt });
    this.#queuedBytes += bytes.length;
    if (this.#queuedBytes > HIGH_WATER) this.#from.pause();
    this.pump();
  }

  /** Forwards every chunk that is due, unless the proxy holds traffic; re-arms for the next one. */
  pump(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    const holdUntil = this.#proxy.holdUntil();
    if (holdUntil === Infinity || this.#to.destroyed) return;
    const now = performance.now();
    while (this.#queue.length > 0) {
      const due = Math.max(this.#queue[0].dueAt, holdUntil);
      if (due > now) {
        this.#timer = setTimeout(() => this.pump(), Math.max(1, Math.ceil(due - now)));
        return;
      }
      const chunk = this.#queue.shift() as Chunk;
      this.#queuedBytes -= chunk.bytes.length;
      this.#proxy.count(this.direction, chunk.bytes.length);
      this.#to.write(chunk.bytes);
    }
    if (this.#from.isPaused()) this.#from.resume();
  }

  stop(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#queue.length = 0;
    this.#queuedBytes = 0;
  }
}

interface Link {
  readonly client: Socket;
  readonly server: Socket;
  readonly pipes: readonly Pipe[];
  closed: boolean;
}

/** A running proxy from 127.0.0.1:`port` to the upstream address. */
export class FaultProxy {
  readonly #server: Server;
  readonly #links = new Set<Link>();
  readonly #random: (n: number) => number;
  readonly #upstream: { readonly host: string; readonly port: number };
  #latency: Partial<Record<Direction, Latency>> = {};
  #stalls: RandomStalls | undefined;
  #stalledUntil = 0;
  #blackhole = false;
  #resetProbability = 0;
  #stats = { accepted: 0, resets: 0, stalls: 0, upstream: 0, downstream: 0 };
  port = 0;

  constructor(upstream: { readonly host?: string; readonly port: number }, seed = 1) {
    this.#upstream = { host: upstream.host ?? "127.0.0.1", port: upstream.port };
    this.#random = rng(seed);
    this.#server = createServer({ noDelay: true }, (client) => this.#accept(client));
  }

  /** Binds 127.0.0.1:`port` (0 = any free port). */
  listen(port = 0): Promise<this> {
    return new Promise((resolve, reject) => {
      this.#server.once("error", reject);
      this.#server.listen(port, "127.0.0.1", () => {
        this.#server.removeListener("error", reject);
        const address = this.#server.address();
        this.port = typeof address === "object" && address !== null ? address.port : port;
        resolve(this);
      });
    });
  }

  /** Adds latency to every chunk travelling in `direction` (default both; undefined removes it). */
  latency(latency: Latency | undefined, direction: Direction | "both" = "both"): this {
    for (const d of direction === "both" ? (["upstream", "downstream"] as const) : [direction]) this.#latency[d] = latency;
    return this;
  }

  /** Holds all traffic of every connection for `ms`, then releases it in order. */
  stall(ms: number): this {
    this.#stats.stalls++;
    this.#stalledUntil = Math.max(this.#stalledUntil, performance.now() + ms);
    this.#pumpAll();
    return this;
  }

  /** Random stalls per forwarded chunk (undefined switches them off). */
  randomStalls(stalls: RandomStalls | undefined): this {
    this.#stalls = stalls;
    return this;
  }

  /** On: connections are accepted and bytes are held, never answered. Off: held bytes flow on. */
  blackhole(on: boolean): this {
    this.#blackhole = on;
    if (!on) this.#pumpAll();
    return this;
  }

  /** Resets a connection (RST both ways) when a chunk arrives, with `probability` per chunk. */
  randomResets(probability: number): this {
    this.#resetProbability = probability;
    return this;
  }

  /** Resets every open connection now (RST to both peers); returns how many. */
  resetAll(): number {
    const links = [...this.#links];
    for (const link of links) this.#reset(link);
    return links.length;
  }

  /** Removes every fault and releases held bytes. */
  heal(): this {
    this.#latency = {};
    this.#stalls = undefined;
    this.#resetProbability = 0;
    this.#stalledUntil = 0;
    return this.blackhole(false);
  }

  stats(): FaultProxyStats {
    let held = 0;
    for (const link of this.#links) for (const pipe of link.pipes) held += pipe.queuedBytes;
    const { accepted, resets, stalls, upstream, downstream } = this.#stats;
    return { accepted, open: this.#links.size, resets, stalls, bytes: { upstream, downstream }, held };
  }

  /** Stops listening and destroys every connection. */
  close(): Promise<void> {
    for (const link of [...this.#links]) this.#end(link, false);
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  /** Milliseconds a chunk in `direction` waits (latency with jitter); may start a random stall. */
  delayFor(direction: Direction): number {
    if (this.#stalls !== undefined && this.#random(1_000_000) < this.#stalls.probability * 1_000_000) this.stall(this.#stalls.ms);
    const latency = this.#latency[direction];
    if (latency === undefined) return 0;
    const jitterUs = Math.round((latency.jitterMs ?? 0) * 1000);
    const offsetUs = jitterUs === 0 ? 0 : this.#random(2 * jitterUs + 1) - jitterUs;
    return Math.max(0, latency.ms + offsetUs / 1000);
  }

  /** When held traffic may flow: Infinity while blackholed, else the end of the current stall. */
  holdUntil(): number {
    return this.#blackhole ? Infinity : this.#stalledUntil;
  }

  count(direction: Direction, bytes: number): void {
    this.#stats[direction] += bytes;
  }

  #accept(client: Socket): void {
    this.#stats.accepted++;
    const server = connect({ host: this.#upstream.host, port: this.#upstream.port, noDelay: true });
    const up = new Pipe(this, client, server, "upstream");
    const down = new Pipe(this, server, client, "downstream");
    const link: Link = { client, server, pipes: [up, down], closed: false };
    this.#links.add(link);
    // Bytes written before the upstream connect completes are queued by node:net itself.
    const onData = (pipe: Pipe) => (data: Buffer) => {
      if (link.closed) return;
      if (this.#resetProbability > 0 && this.#random(1_000_000) < this.#resetProbability * 1_000_000) return this.#reset(link);
      pipe.push(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    };
    client.on("data", onData(up));
    server.on("data", onData(down));
    // A peer's FIN or RST ends the whole link, like a proxy process would (no half-open relay).
    const end = () => this.#end(link, false);
    for (const socket of [client, server]) {
      socket.on("error", end);
      socket.on("close", end);
      socket.on("end", end);
    }
  }

  #reset(link: Link): void {
    if (link.closed) return;
    this.#stats.resets++;
    this.#end(link, true);
  }

  #end(link: Link, rst: boolean): void {
    if (link.closed) return;
    link.closed = true;
    this.#links.delete(link);
    for (const pipe of link.pipes) pipe.stop();
    for (const socket of [link.client, link.server]) {
      if (socket.destroyed) continue;
      if (rst && socket.readyState === "open") socket.resetAndDestroy();
      else socket.destroy();
    }
  }

  #pumpAll(): void {
    for (const link of this.#links) for (const pipe of link.pipes) pipe.pump();
  }
}

/** Starts a proxy on a free test port (ports.ts) in front of 127.0.0.1:`upstreamPort`. */
export async function startFaultProxy(upstreamPort: number, options: { readonly port?: number; readonly seed?: number } = {}): Promise<FaultProxy> {
  return await new FaultProxy({ port: upstreamPort }, options.seed).listen(options.port ?? (await freePort()));
}
