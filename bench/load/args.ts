/**
 * Command line of the load generator (bench/load/main.ts --help prints USAGE).
 * @module
 */
import type { HelloStyle } from "./frames.ts";

/** Everything a load run needs. */
export interface LoadOptions {
  readonly host: string;
  readonly port: number;
  readonly connections: number;
  /** Closed loop: NOTIFYs in flight per connection. Open loop: the in-flight cap per connection. */
  readonly pipeline: number;
  readonly durationMs: number;
  /** Measured traffic is preceded by this much unrecorded traffic (JIT warm-up). */
  readonly warmupMs: number;
  readonly mode: "closed" | "open";
  /** Open loop only: NOTIFYs per second over all connections. */
  readonly rate: number;
  readonly keys: number;
  readonly ipv6Share: number;
  readonly hello: HelloStyle;
  readonly message: string;
  readonly json: boolean;
  /** Sample this process's VmRSS during the run (the agent's pid). */
  readonly agentPid: number | undefined;
  /** The agent's metrics address (HOST:PORT): decisions made by the failure policy in the window. */
  readonly agentMetrics: string | undefined;
  /** A store process (valkey-server) whose CPU time per decision is reported too. */
  readonly storePid: number | undefined;
  readonly seed: number;
}

/** Usage text. */
export const USAGE = `Usage: bun run bench/load/main.ts --target HOST:PORT [options]

Plays HAProxy against any SPOE agent: HELLO, then NOTIFY frames (message with args
ip_fwd NULL, ip_xff NULL, ip_src IPv4/IPv6 from a pool of --keys addresses), and measures
ACK latency, ACK/s and the verdicts (sess ip_score 0 allow / 100 deny).

  --target HOST:PORT   agent address (required)
  --connections N      TCP connections (default 16)
  --pipeline N         closed: NOTIFYs in flight per connection; open: in-flight cap (default 20;
                       --hello 3.1 caps it at 20 like HAProxy's mux)
  --duration D         measured time: 10s, 500ms, 1m (default 10s)
  --warmup D           unrecorded traffic before measuring (default 1s; 0 to skip)
  --mode closed|open   closed: as fast as ACKs return; open: a fixed --rate, latency measured
                       from each NOTIFY's scheduled send time (no coordinated omission)
  --rate N             open loop: NOTIFYs per second, all connections together (default 50000)
  --keys N             distinct client addresses (default 10000, max 16777216)
  --ipv6-share F       share of IPv6 clients, 0..1 (default 0.2)
  --hello 2.6|3.1      2.6: "pipelining,async", stream-id increasing, frame-id 1;
                       3.1: "pipelining", odd stream-ids per connection, frame-id 1 (default 2.6)
  --message NAME       SPOE message name (default check-rate)
  --agent-pid PID      sample the agent's VmRSS from /proc/PID/status during the run, and its CPU
                       time (utime+stime of /proc/PID/stat) at the edges of the measured window
  --agent-metrics H:P  the agent's /metrics address: share of the window's decisions made by the
                       failure policy (spoa_degraded_decisions_total / spoa_decisions_total)
  --store-pid PID      a store process (valkey-server): its CPU time per decision in the window
  --seed N             key-choice seed (default 1)
  --json               print one JSON object instead of the table
`;

/** Error for a bad command line. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** Parses "10s", "500ms", "1m", "2.5s" or a bare number of seconds into milliseconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (m === null) throw new UsageError(`invalid duration "${text}" (use 10s, 500ms, 1m)`);
  const n = Number(m[1]);
  const unit = m[2] ?? "s";
  return Math.round(unit === "ms" ? n : unit === "s" ? n * 1000 : n * 60_000);
}

function int(name: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be an integer in [${min}, ${max}], got "${text}"`);
  return n;
}

/** Parses the command line; returns "help" for --help. Throws UsageError. */
export function parseLoadArgs(argv: readonly string[]): LoadOptions | "help" {
  const v = new Map<string, string>();
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--help" || a === "-h") return "help";
    if (a === "--json") {
      json = true;
      continue;
    }
    if (!a.startsWith("--")) throw new UsageError(`unexpected argument "${a}"`);
    const eq = a.indexOf("=");
    const key = eq > 0 ? a.slice(2, eq) : a.slice(2);
    const value = eq > 0 ? a.slice(eq + 1) : argv[++i];
    if (value === undefined) throw new UsageError(`--${key} needs a value`);
    v.set(key, value);
  }
  const known = ["target", "connections", "pipeline", "duration", "warmup", "mode", "rate", "keys", "ipv6-share", "hello", "message", "agent-pid", "agent-metrics", "store-pid", "seed"];
  for (const key of v.keys()) if (!known.includes(key)) throw new UsageError(`unknown option --${key}`);
  const target = v.get("target");
  if (target === undefined) throw new UsageError("--target HOST:PORT is required");
  const colon = target.lastIndexOf(":");
  if (colon <= 0) throw new UsageError(`--target must be HOST:PORT, got "${target}"`);
  const mode = v.get("mode") ?? "closed";
  if (mode !== "closed" && mode !== "open") throw new UsageError(`--mode must be closed or open, got "${mode}"`);
  const hello = v.get("hello") ?? "2.6";
  if (hello !== "2.6" && hello !== "3.1") throw new UsageError(`--hello must be 2.6 or 3.1, got "${hello}"`);
  const share = Number(v.get("ipv6-share") ?? "0.2");
  if (!(share >= 0 && share <= 1)) throw new UsageError(`--ipv6-share must be in [0, 1]`);
  let pipeline = int("pipeline", v.get("pipeline") ?? "20", 1, 100_000);
  if (hello === "3.1") pipeline = Math.min(pipeline, 20);
  const message = v.get("message") ?? "check-rate";
  if (message.length === 0 || message.length >= 240) throw new UsageError("--message must be 1 to 239 characters");
  const pid = v.get("agent-pid");
  const storePid = v.get("store-pid");
  return {
    host: target.slice(0, colon).replace(/^\[(.*)\]$/, "$1"),
    port: int("target port", target.slice(colon + 1), 1, 65535),
    connections: int("connections", v.get("connections") ?? "16", 1, 10_000),
    pipeline,
    durationMs: parseDuration(v.get("duration") ?? "10s"),
    warmupMs: parseDuration(v.get("warmup") ?? "1s"),
    mode,
    rate: int("rate", v.get("rate") ?? "50000", 1, 100_000_000),
    keys: int("keys", v.get("keys") ?? "10000", 1, 2 ** 24),
    ipv6Share: share,
    hello,
    message,
    json,
    agentPid: pid === undefined ? undefined : int("agent-pid", pid, 1, 2 ** 31),
    agentMetrics: v.get("agent-metrics"),
    storePid: storePid === undefined ? undefined : int("store-pid", storePid, 1, 2 ** 31),
    seed: int("seed", v.get("seed") ?? "1", 0, 2 ** 31),
  };
}
