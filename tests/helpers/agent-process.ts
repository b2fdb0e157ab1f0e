// Runs spoa-gcra as a real subprocess — under bun, under deno, or as the compiled binary —
// and waits for its "listening" log line. This is how the e2e tests prove each runtime.
import { existsSync } from "node:fs";
import { resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "../..");

/** The three ways a user starts the agent. */
export type AgentRuntime = "bun" | "deno" | "binary";

/** The command line that starts the CLI under `runtime` with `args`. */
export function agentCommand(runtime: AgentRuntime, args: readonly string[]): string[] {
  const main = resolve(ROOT, "src/cli/main.ts");
  switch (runtime) {
    case "bun":
      return [resolve(ROOT, "node_modules/.bin/bun"), "run", main, ...args];
    case "deno":
      return [resolve(ROOT, "node_modules/.bin/deno"), "run", "-A", "--unstable-net", main, ...args];
    case "binary":
      return [binaryPath(), ...args];
  }
}

/** The compiled executable; `npm test` builds it before the suite runs. */
export function binaryPath(): string {
  const path = resolve(ROOT, "dist/spoa-gcra");
  if (!existsSync(path)) throw new Error(`${path} is missing: run "npm run compile" (npm test does it first)`);
  return path;
}

/** A running agent with its parsed JSON log lines. */
export interface AgentProcess {
  readonly pid: number;
  readonly logs: () => readonly Record<string, unknown>[];
  readonly output: () => string;
  /** The first log line whose `msg` equals `msg`, waiting up to `timeoutMs`. */
  waitForLog(msg: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  signal(name: "SIGTERM" | "SIGINT" | "SIGHUP" | "SIGKILL"): void;
  /** Resolves with the exit code. */
  readonly exited: Promise<number>;
  stop(): Promise<number>;
}

/**
 * Reads a process's output stream to its end: every text chunk to `onText`, and each complete
 * line that is JSON (a log line) into `logs`; other lines (banners, runtime warnings) are skipped.
 */
export async function readLogLines(stream: ReadableStream<Uint8Array>, logs: Record<string, unknown>[] | undefined, onText: (text: string) => void = () => {}): Promise<void> {
  const decoder = new TextDecoder();
  let partial = "";
  for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) {
    const text = decoder.decode(chunk, { stream: true });
    onText(text);
    if (logs === undefined) continue;
    partial += text;
    const lines = partial.split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) {
      try {
        logs.push(JSON.parse(line));
      } catch {
        // not a log line
      }
    }
  }
}

/** Starts the agent and waits for its "listening" line (or fails with its output). */
export async function startAgent(options: {
  readonly runtime: AgentRuntime;
  readonly args: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  readonly waitFor?: string | null;
  readonly timeoutMs?: number;
}): Promise<AgentProcess> {
  const child = Bun.spawn(agentCommand(options.runtime, options.args), {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", METRICS_ADDR: "off", ...options.env },
    stdout: "pipe",
    stderr: "pipe",
  });
  let output = "";
  const logs: Record<string, unknown>[] = [];
  const collect = (stream: ReadableStream<Uint8Array>, parse: boolean) =>
    readLogLines(stream, parse ? logs : undefined, (text) => (output += text));
  void collect(child.stdout, true);
  void collect(child.stderr, false);
  const exited = child.exited.then((code) => code ?? 1);

  const agent: AgentProcess = {
    pid: child.pid,
    logs: () => logs,
    output: () => output,
    async waitForLog(msg, timeoutMs = options.timeoutMs ?? 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const found = logs.find((line) => line.msg === msg);
        if (found) return found;
        if (child.exitCode !== null) break;
        await Bun.sleep(20);
      }
      throw new Error(`agent (${options.runtime}) did not log "${msg}"; exit=${child.exitCode}; output:\n${output}`);
    },
    signal: (name) => child.kill(name),
    exited,
    async stop() {
      if (child.exitCode !== null) return child.exitCode;
      child.kill("SIGTERM");
      const code = await Promise.race([exited, Bun.sleep(5_000).then(() => null)]);
      if (code !== null) return code;
      child.kill("SIGKILL");
      return await exited;
    },
  };
  const wait = options.waitFor === undefined ? "listening" : options.waitFor;
  if (wait !== null) {
    try {
      await agent.waitForLog(wait);
    } catch (error) {
      child.kill("SIGKILL");
      throw error;
    }
  }
  return agent;
}
