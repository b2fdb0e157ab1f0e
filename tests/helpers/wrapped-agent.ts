/**
 * Starts the agent behind a `sh -c` prologue — `ulimit -n 64`, joining a cgroup — then `exec`s
 * it, so the limit applies to the agent itself; collects its JSON log lines like agent-process.ts.
 * @module
 */
import { type AgentRuntime, agentCommand, readLogLines } from "./agent-process.ts";
import { waitFor } from "./ports.ts";

/** A running wrapped agent. */
export interface WrappedAgent {
  readonly child: ReturnType<typeof Bun.spawn>;
  readonly logs: Record<string, unknown>[];
  /** Resolves true when the process is still running `ms` after the call. */
  aliveAfter(ms: number): Promise<boolean>;
  /** SIGKILL and reap. */
  kill(): Promise<void>;
}

/** Runs `prologue` in sh, then execs the agent under `runtime` with `args`; waits for "listening". */
export async function startWrappedAgent(runtime: AgentRuntime, prologue: string, args: readonly string[]): Promise<WrappedAgent> {
  const child = Bun.spawn(["sh", "-c", `${prologue} && exec "$0" "$@"`, ...agentCommand(runtime, args)], {
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp" },
    stdout: "pipe",
    stderr: "pipe",
  });
  const logs: Record<string, unknown>[] = [];
  void readLogLines(child.stdout as ReadableStream<Uint8Array>, logs);
  const agent: WrappedAgent = {
    child,
    logs,
    aliveAfter: (ms) => Promise.race([child.exited.then(() => false), Bun.sleep(ms).then(() => true)]),
    async kill() {
      child.kill("SIGKILL");
      await child.exited;
    },
  };
  try {
    await waitFor(`the ${runtime} agent's listening line`, () => logs.some((l) => l.msg === "listening") || child.exitCode !== null, 20_000);
  } catch (error) {
    await agent.kill();
    throw error;
  }
  if (child.exitCode !== null) throw new Error(`agent exited with ${child.exitCode}: ${await new Response(child.stderr).text()}`);
  return agent;
}
