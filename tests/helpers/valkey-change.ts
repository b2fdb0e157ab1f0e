/**
 * Pieces shared by the "Valkey changes under load" e2e scenarios (restart, failover, reshard,
 * maxmemory): the compiled agent with metrics on a Valkey given by environment, what Valkey
 * says about script calls (INFO commandstats / errorstats), and how an outcome list reads:
 * the window the failure policy decided in and when decisions came back to Valkey.
 * @module
 */
import { type AgentProcess, startAgent } from "./agent-process.ts";
import type { Outcome } from "./fault-scenario.ts";
import { freePort, waitFor } from "./ports.ts";
import { clientIp, connectSpop, type SpopConnection } from "./spop-socket.ts";

/** HAProxy's `timeout processing` the scenarios hold the agent to: a later ACK is an error. */
export const ACK_TIMEOUT_MS = 1_000;

/** The agent under test and HAProxy-like connections to it. */
export interface AgentOnValkey {
  readonly agent: AgentProcess;
  readonly port: number;
  /** "127.0.0.1:port" of /metrics, /readyz. */
  readonly metrics: string;
  readonly sockets: readonly SpopConnection[];
  stop(): Promise<void>;
}

/**
 * Starts the compiled agent with `env` (VALKEY_URL, VALKEY_NODES or VALKEY_SENTINELS…), the
 * default deadline and breaker, and `limit` for every client; opens `connections` SPOP sockets
 * and waits until a decision comes from Valkey.
 */
export async function startAgentOnValkey(options: {
  readonly env: Readonly<Record<string, string>>;
  readonly connections?: number;
  readonly args?: readonly string[];
  /** µs between requests and burst tolerance (default: 1 s, burst 3). */
  readonly limit?: { readonly intervalUs: number; readonly burstUs: number };
}): Promise<AgentOnValkey> {
  const port = await freePort();
  const limit = options.limit ?? { intervalUs: 1_000_000, burstUs: 2_000_000 };
  const agent = await startAgent({
    runtime: "binary",
    args: ["serve", "--listen", `127.0.0.1:${port}`, "--metrics", "127.0.0.1:0", ...(options.args ?? [])],
    env: { SPOA_RATE_INTERVAL: String(limit.intervalUs), SPOA_RATE_BURST: String(limit.burstUs), ...options.env },
  });
  const metrics = String((await agent.waitForLog("listening")).metrics);
  const sockets: SpopConnection[] = [];
  try {
    for (let i = 0; i < (options.connections ?? 2); i++) sockets.push(await connectSpop(port, { timeoutMs: ACK_TIMEOUT_MS }));
    await waitFor("a decision made by Valkey", async () => !(await sockets[0].check(clientIp(0xffff00))).degraded, 15_000);
  } catch (error) {
    for (const s of sockets) s.close();
    await agent.stop();
    throw error;
  }
  return {
    agent,
    port,
    metrics,
    sockets,
    stop: async () => {
      for (const s of sockets) s.close();
      await agent.stop();
    },
  };
}

/** What one Valkey server counted about the GCRA script since its start (or CONFIG RESETSTAT). */
export interface ScriptStats {
  readonly evalsha: number;
  /** EVAL: the whole source sent, the store's last resort. */
  readonly eval: number;
  readonly scriptLoad: number;
  /** Replies NOSCRIPT (INFO errorstats). */
  readonly noscript: number;
  /** Replies OOM (INFO errorstats). */
  readonly oom: number;
}

/** Parses INFO commandstats and errorstats of a server reached by `cli`. */
export async function scriptStats(cli: (...args: string[]) => Promise<string>): Promise<ScriptStats> {
  const text = `${await cli("INFO", "commandstats")}\n${await cli("INFO", "errorstats")}`;
  const calls = (name: string) => Number(new RegExp(`cmdstat_${name}:calls=(\\d+)`).exec(text)?.[1] ?? 0);
  const errors = (name: string) => Number(new RegExp(`errorstat_${name}:count=(\\d+)`).exec(text)?.[1] ?? 0);
  return { evalsha: calls("evalsha"), eval: calls("eval"), scriptLoad: calls("script\\|load"), noscript: errors("NOSCRIPT"), oom: errors("OOM") };
}

/** The failure policy's window in `outcomes` around a change at `changedAt` (performance.now()). */
export interface ChangeWindow {
  readonly total: number;
  readonly degraded: number;
  /** ms from the change to the last degraded ACK (0 when none was degraded). */
  readonly lastDegradedMs: number;
  /** ms from the change to the first ACK decided by Valkey after the last degraded one. */
  readonly backOnValkeyMs: number;
}

/** Reads `outcomes` (in ACK order) relative to a change at `changedAt`. */
export function changeWindow(outcomes: readonly Outcome[], changedAt: number): ChangeWindow {
  const degraded = outcomes.filter((o) => o.degraded);
  const lastDegraded = degraded.reduce((t, o) => Math.max(t, o.at), changedAt);
  const back = outcomes.find((o) => !o.degraded && o.at > lastDegraded);
  return {
    total: outcomes.length,
    degraded: degraded.length,
    lastDegradedMs: degraded.length === 0 ? 0 : lastDegraded - changedAt,
    backOnValkeyMs: (back?.at ?? Number.NaN) - changedAt,
  };
}

/** "12 of 3 400 degraded, last 850 ms after, back on Valkey 870 ms after". */
export function describeWindow(w: ChangeWindow): string {
  return `${w.degraded} of ${w.total} decisions degraded, the last ${w.lastDegradedMs.toFixed(0)} ms after the change, back on Valkey ${w.backOnValkeyMs.toFixed(0)} ms after`;
}
