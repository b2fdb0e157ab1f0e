/**
 * Parses wrk's report (run with --latency).
 * @module
 */

/** The numbers of one wrk run. */
export interface WrkResult {
  readonly requests: number;
  readonly requestsPerSecond: number;
  readonly latencyMs: { readonly avg: number; readonly p50: number; readonly p75: number; readonly p90: number; readonly p99: number; readonly max: number };
  readonly non2xx: number;
  readonly socketErrors: number;
}

/** Error for wrk output we cannot read. */
export class WrkParseError extends Error {
  override readonly name = "WrkParseError";
}

/** "1.23ms" / "450.00us" / "2.01s" → milliseconds. */
export function wrkDurationMs(text: string): number {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(text.trim());
  if (m === null) throw new WrkParseError(`cannot read wrk duration "${text}"`);
  const n = Number(m[1]);
  return m[2] === "us" ? n / 1000 : m[2] === "ms" ? n : m[2] === "s" ? n * 1000 : n * 60_000;
}

/** Reads wrk's stdout. */
export function parseWrk(out: string): WrkResult {
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
  const total = /(\d+) requests in/.exec(out);
  const lat = /Latency\s+(\S+)\s+(\S+)\s+(\S+)/.exec(out);
  if (rps === null || total === null || lat === null) throw new WrkParseError(`unexpected wrk output:\n${out}`);
  const pct = (p: string): number => {
    const m = new RegExp(`^\\s+${p}%\\s+(\\S+)`, "m").exec(out);
    return m === null ? NaN : wrkDurationMs(m[1]);
  };
  const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(out);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  return {
    requests: Number(total[1]),
    requestsPerSecond: Number(rps[1]),
    latencyMs: { avg: wrkDurationMs(lat[1]), p50: pct("50"), p75: pct("75"), p90: pct("90"), p99: pct("99"), max: wrkDurationMs(lat[3]) },
    non2xx: non2xx === null ? 0 : Number(non2xx[1]),
    socketErrors: sock === null ? 0 : sock.slice(1).reduce((n, v) => n + Number(v), 0),
  };
}
