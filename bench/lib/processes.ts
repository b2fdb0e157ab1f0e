/**
 * Child processes and loopback ports for the benchmark scripts: free ports, waiting for a port,
 * spawning with captured output, and killing everything started (only our own children, by pid).
 * @module
 */
import { connect } from "node:net";
import { fileURLToPath } from "node:url";

/** The repository root (bench/lib/ is two levels below it). */
export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
/** Pinned runtimes from node_modules. */
export const BUN = `${ROOT}node_modules/.bin/bun`;
export const DENO = `${ROOT}node_modules/.bin/deno`;

/** A free TCP port on 127.0.0.1 (bound once with port 0, then released). */
export function freePort(): number {
  const server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = server.port;
  server.stop(true);
  return port;
}

/** True when 127.0.0.1:`port` accepts a TCP connection. */
export function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** Polls until `port` accepts or `timeoutMs` passes; false on timeout. */
export async function waitForPort(port: number, timeoutMs: number, intervalMs = 20): Promise<boolean> {
  const until = performance.now() + timeoutMs;
  while (performance.now() < until) {
    if (await accepts(port)) return true;
    await Bun.sleep(intervalMs);
  }
  return false;
}

/** A spawned child with its captured output. */
export interface Child {
  readonly name: string;
  readonly pid: number;
  readonly exited: Promise<number>;
  output(): string;
  /** SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

const children = new Set<Child>();

/** Spawns `cmd` with output collected (bounded to the last 64 KiB). */
export function start(name: string, cmd: readonly string[], env: Record<string, string | undefined> = {}): Child {
  const proc = Bun.spawn([...cmd], { env: { ...process.env, ...env }, stdout: "pipe", stderr: "pipe", cwd: ROOT });
  let out = "";
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) {
      out += decoder.decode(chunk);
      if (out.length > 65536) out = out.slice(-65536);
    }
  };
  void collect(proc.stdout);
  void collect(proc.stderr);
  const child: Child = {
    name,
    pid: proc.pid,
    exited: proc.exited,
    output: () => out,
    async stop(graceMs = 3000) {
      children.delete(child);
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill("SIGTERM");
      const done = await Promise.race([proc.exited.then(() => true), Bun.sleep(graceMs).then(() => false)]);
      if (!done) {
        proc.kill("SIGKILL");
        await proc.exited;
      }
    },
  };
  children.add(child);
  return child;
}

/** Stops every child started by start() that is still running. */
export async function stopAll(): Promise<void> {
  await Promise.all([...children].map((c) => c.stop()));
}

/** Runs `cmd` to completion (bounded by `timeoutMs`) and returns its output. */
export async function runToEnd(cmd: readonly string[], timeoutMs: number): Promise<{ code: number; stdout: string; stderr: string }> {
  const proc = Bun.spawn([...cmd], { stdout: "pipe", stderr: "pipe", cwd: ROOT });
  const timer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(timer);
  return { code, stdout, stderr };
}
