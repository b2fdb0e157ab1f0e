/**
 * Pieces shared by the e2e files that drive the agent over SPOP and read its HTTP side (admin,
 * top, hot keys): what a file starts, stopped in one afterAll; an agent with metrics/admin HTTP
 * and one SPOP connection; an admin request with a bearer token; one CLI run.
 * @module
 */
import { afterAll } from "bun:test";
import { rmSync } from "node:fs";
import { agentCommand, type AgentProcess, type AgentRuntime, startAgent } from "./agent-process.ts";
import { freePort } from "./ports.ts";
import { connectSpop, type SpopConnection } from "./spop-socket.ts";
import type { ValkeyProcess } from "./valkey.ts";

/** What one e2e file started; push to these and the file's afterAll stops and removes them. */
export interface E2eProcesses {
  readonly sockets: SpopConnection[];
  readonly agents: AgentProcess[];
  readonly valkeys: ValkeyProcess[];
  /** Temporary directories (each Valkey's own directory is removed too). */
  readonly dirs: string[];
}

/**
 * Registers an afterAll that closes the sockets, stops the agents, stops the Valkeys and removes
 * their directories and `dirs`; call once at a test file's top level.
 */
export function trackE2eProcesses(): E2eProcesses {
  const processes: E2eProcesses = { sockets: [], agents: [], valkeys: [], dirs: [] };
  afterAll(async () => {
    for (const s of processes.sockets) s.close();
    await Promise.all(processes.agents.map((a) => a.stop()));
    for (const v of processes.valkeys) await v.stop();
    for (const d of [...processes.dirs, ...processes.valkeys.map((v) => v.dir)]) rmSync(d, { recursive: true, force: true });
  });
  return processes;
}

/** An agent as started by startHttpAgent: its process, one SPOP connection, its HTTP base URL. */
export interface HttpAgent {
  readonly agent: AgentProcess;
  readonly spop: SpopConnection;
  /** `http://127.0.0.1:port` of /metrics, /healthz and /admin. */
  readonly http: string;
}

/**
 * Starts `serve` under `runtime` (default bun) on a free port with metrics on another and
 * `env`, opens one SPOP connection; both are tracked in `processes`.
 */
export async function startHttpAgent(
  processes: E2eProcesses,
  options: { readonly env: Record<string, string>; readonly args?: readonly string[]; readonly runtime?: AgentRuntime },
): Promise<HttpAgent> {
  const port = await freePort();
  const agent = await startAgent({
    runtime: options.runtime ?? "bun",
    args: ["serve", "--listen", `127.0.0.1:${port}`, "--metrics", "127.0.0.1:0", ...(options.args ?? [])],
    env: options.env,
  });
  processes.agents.push(agent);
  const http = `http://${String((await agent.waitForLog("listening")).metrics)}`;
  const spop = await connectSpop(port);
  processes.sockets.push(spop);
  return { agent, spop, http };
}

/** `method` `path` on an agent's HTTP side, with `Authorization: Bearer token` unless token is null. */
export function adminRequest(http: string, method: "GET" | "POST", path: string, token: string | null): Promise<Response> {
  return fetch(`${http}${path}`, { method, headers: token === null ? {} : { authorization: `Bearer ${token}` } });
}

/** Runs the CLI under bun with PATH, HOME (the caller's, else /tmp) and `env`; resolves with its exit code and output. */
export async function runCli(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = Bun.spawn(agentCommand("bun", args), { env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...env }, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  return { code, stdout, stderr };
}
