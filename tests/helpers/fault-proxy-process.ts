/**
 * Runs the fault proxy (fault-proxy.ts) in a child Bun process and drives it over IPC, so its
 * timers keep time while the test process is busy generating load. Same faults, async calls.
 * @module
 */
import { resolve } from "node:path";
import type { Subprocess } from "bun";
import type { Direction, FaultProxyStats, Latency, RandomStalls } from "./fault-proxy.ts";
import { freePort } from "./ports.ts";

/** One request to the proxy process. */
export type ProxyCommand =
  | { readonly op: "latency"; readonly latency: Latency | undefined; readonly direction: Direction | "both" }
  | { readonly op: "stall"; readonly ms: number }
  | { readonly op: "randomStalls"; readonly stalls: RandomStalls | undefined }
  | { readonly op: "blackhole"; readonly on: boolean }
  | { readonly op: "randomResets"; readonly probability: number }
  | { readonly op: "resetAll" }
  | { readonly op: "heal" }
  | { readonly op: "stats" };

interface Reply {
  readonly id: number;
  readonly value?: unknown;
  readonly error?: string;
}

const MAIN = resolve(import.meta.dir, "fault-proxy-main.ts");
const BUN = resolve(import.meta.dir, "../../node_modules/.bin/bun");
const CALL_TIMEOUT_MS = 5_000;

/** A fault proxy running in its own process; every call resolves once the proxy applied it. */
export class FaultProxyProcess {
  readonly port: number;
  readonly #child: Subprocess;
  readonly #waiting: Map<number, (reply: Reply) => void>;
  #next = 1;

  private constructor(port: number, child: Subprocess, waiting: Map<number, (reply: Reply) => void>) {
    this.port = port;
    this.#child = child;
    this.#waiting = waiting;
  }

  /** Starts the proxy process on a free test port in front of 127.0.0.1:`upstreamPort`. */
  static async start(upstreamPort: number, options: { readonly seed?: number } = {}): Promise<FaultProxyProcess> {
    const listenPort = await freePort();
    const waiting = new Map<number, (reply: Reply) => void>();
    let started: (reply: Reply) => void = () => {};
    const ready = new Promise<Reply>((resolveReady) => (started = resolveReady));
    waiting.set(0, started);
    const child = Bun.spawn([BUN, MAIN, String(upstreamPort), String(listenPort), String(options.seed ?? 1)], {
      stdout: "inherit",
      stderr: "inherit",
      ipc(message: Reply) {
        const done = waiting.get(message.id);
        waiting.delete(message.id);
        done?.(message);
      },
    });
    const first: Reply = await Promise.race([ready, child.exited.then((code): Reply => ({ id: 0, error: `proxy process exited ${code}` }))]);
    if (first.error !== undefined) throw new Error(first.error);
    return new FaultProxyProcess(Number(first.value), child, waiting);
  }

  #call<T>(command: ProxyCommand): Promise<T> {
    const id = this.#next++;
    return new Promise<T>((resolveCall, reject) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(id);
        reject(new Error(`fault proxy did not answer ${command.op} within ${CALL_TIMEOUT_MS} ms`));
      }, CALL_TIMEOUT_MS);
      this.#waiting.set(id, (reply) => {
        clearTimeout(timer);
        if (reply.error !== undefined) reject(new Error(reply.error));
        else resolveCall(reply.value as T);
      });
      this.#child.send({ id, command });
    });
  }

  /** Adds latency to every chunk in `direction` (default both; undefined removes it). */
  latency(latency: Latency | undefined, direction: Direction | "both" = "both"): Promise<void> {
    return this.#call({ op: "latency", latency, direction });
  }

  /** Holds all traffic for `ms`. */
  stall(ms: number): Promise<void> {
    return this.#call({ op: "stall", ms });
  }

  randomStalls(stalls: RandomStalls | undefined): Promise<void> {
    return this.#call({ op: "randomStalls", stalls });
  }

  /** On: accept and hold bytes, never answer. Off: held bytes flow on. */
  blackhole(on: boolean): Promise<void> {
    return this.#call({ op: "blackhole", on });
  }

  randomResets(probability: number): Promise<void> {
    return this.#call({ op: "randomResets", probability });
  }

  /** RST every open connection; resolves with how many. */
  resetAll(): Promise<number> {
    return this.#call({ op: "resetAll" });
  }

  /** Removes every fault and releases held bytes. */
  heal(): Promise<void> {
    return this.#call({ op: "heal" });
  }

  stats(): Promise<FaultProxyStats> {
    return this.#call({ op: "stats" });
  }

  /** Stops the process (its connections die with it). */
  async close(): Promise<void> {
    if (this.#child.exitCode !== null) return;
    this.#child.kill("SIGKILL");
    await this.#child.exited;
  }
}
