/**
 * Logs each kind of connection trouble at most once per interval, with a count of what was
 * suppressed, so an outage does not flood the log.
 * @module
 */
import type { Clock } from "../store.ts";

/**
 * The store's log sink (same shape as the observe layer's logger).
 *
 * @example JSON lines on stderr
 * ```ts
 * import type { LogFn } from "@spoa-gcra/spoa-gcra/valkey";
 *
 * const lines: string[] = [];
 * const log: LogFn = (level, msg, fields) => void lines.push(JSON.stringify({ level, msg, ...fields }));
 * log("warn", "Valkey connection error", { error: "ECONNREFUSED" });
 * console.assert(lines[0].includes("ECONNREFUSED"));
 * ```
 */
export type LogFn = (level: "debug" | "info" | "warn" | "error", msg: string, fields: Readonly<Record<string, unknown>>) => void;

/** A throttled logger: `report(kind, msg, fields)` logs the first of each kind per interval. */
export function throttledLog(log: LogFn | undefined, clock: Clock, intervalMs = 10_000) {
  const last = new Map<string, { atUs: number; suppressed: number }>();
  return (kind: string, msg: string, fields: Readonly<Record<string, unknown>>): void => {
    if (!log) return;
    const now = clock.nowUs();
    const entry = last.get(kind);
    if (entry && now - entry.atUs < intervalMs * 1000) {
      entry.suppressed++;
      return;
    }
    const suppressed = entry?.suppressed ?? 0;
    last.set(kind, { atUs: now, suppressed: 0 });
    log("warn", msg, suppressed > 0 ? { kind, ...fields, suppressed } : { kind, ...fields });
  };
}
