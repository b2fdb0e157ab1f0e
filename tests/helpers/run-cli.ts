// Runs one spoa-gcra command to completion under bun, deno or the binary and collects what it
// printed: for commands that exit on their own (check-config, a serve that cannot start, help).
import { agentCommand, type AgentRuntime } from "./agent-process.ts";

/** What a finished command left behind. */
export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `spoa-gcra ARGS` with a clean environment plus `env`; killed after `timeoutMs`. */
export async function runCli(runtime: AgentRuntime, args: readonly string[], env: Record<string, string> = {}, timeoutMs = 30_000): Promise<CliRun> {
  const child = Bun.spawn(agentCommand(runtime, args), {
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const [code, stdout, stderr] = await Promise.all([child.exited, new Response(child.stdout).text(), new Response(child.stderr).text()]);
  clearTimeout(timer);
  return { code, stdout, stderr };
}
