/**
 * Leveled JSON logs, one object per line: `{"ts":"…Z","level":"info","msg":"…",…fields}`,
 * with secrets redacted and a flood guard for errors that can repeat per request.
 * @module
 */
import type { Clock } from "../agent/time.ts";
import { redact } from "./redact.ts";

/** Log levels, most verbose first; `off` silences everything. The config reads its names from here. */
export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "off"] as const;
/** A log level. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Extra fields of a log line. */
export type LogFields = Readonly<Record<string, unknown>>;

const RANK = Object.fromEntries(LOG_LEVELS.map((level, rank) => [level, rank])) as Readonly<Record<LogLevel, number>>;
const RESERVED = new Set(["ts", "level", "msg"]);

/** Default flood-guard interval: one line per key per 10 s. */
export const DEFAULT_THROTTLE_MS = 10_000;

/** Keys the flood guard remembers at most; throttle keys come from a fixed set, this is a backstop. */
const MAX_THROTTLE_KEYS = 1024;

/** What a logger is built from. */
export interface LoggerOptions {
  readonly level: LogLevel;
  /** Receives one complete line, newline included. */
  readonly sink: (line: string) => void;
  /** The wall clock of the timestamps and the flood guard (µs since the epoch); injected so tests are deterministic. */
  readonly clock: Clock;
  /** Flood-guard interval in ms (default DEFAULT_THROTTLE_MS). */
  readonly throttleMs?: number;
  /** Fields added to every line (e.g. `pid`). */
  readonly base?: LogFields;
}

/** A leveled JSON logger. */
export interface Logger {
  readonly level: LogLevel;
  enabled(level: LogLevel): boolean;
  trace(msg: string, fields?: LogFields): void;
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  log(level: LogLevel, msg: string, fields?: LogFields): void;
  /**
   * Logs the first occurrence of `key`, then at most once per interval with `suppressed`: the
   * number of repeats swallowed since the last line. Never one line per request.
   */
  throttled(key: string, level: LogLevel, msg: string, fields?: LogFields): void;
  /** Writes one line per throttle key with repeats still unreported (call on shutdown). */
  flushThrottled(): void;
}

interface ThrottleState {
  lastMs: number;
  suppressed: number;
  level: LogLevel;
  msg: string;
  fields: LogFields | undefined;
}

/** Creates a logger that writes JSON lines to `options.sink`. */
export function createLogger(options: LoggerOptions): Logger {
  const threshold = RANK[options.level];
  const interval = options.throttleMs ?? DEFAULT_THROTTLE_MS;
  const throttle = new Map<string, ThrottleState>();
  const { clock, sink, base } = options;
  const now = (): number => clock.nowUs() / 1000;

  const write = (level: LogLevel, msg: string, fields: LogFields | undefined, extra?: LogFields): void => {
    const record: Record<string, unknown> = { ts: new Date(now()).toISOString(), level, msg };
    for (const source of [base, fields, extra]) {
      if (source === undefined) continue;
      for (const [name, value] of Object.entries(source)) {
        if (value === undefined) continue;
        record[RESERVED.has(name) ? `field_${name}` : name] = value;
      }
    }
    sink(`${stringify(record)}\n`);
  };

  const log = (level: LogLevel, msg: string, fields?: LogFields): void => {
    if (RANK[level] >= threshold && level !== "off") write(level, msg, fields);
  };

  const prune = (at: number): void => {
    for (const [key, state] of throttle) {
      if (at - state.lastMs >= interval) {
        if (state.suppressed > 0) write(state.level, state.msg, state.fields, { suppressed: state.suppressed });
        throttle.delete(key);
      }
    }
    // Still full: everything is recent; drop the oldest rather than grow without bound.
    while (throttle.size >= MAX_THROTTLE_KEYS) {
      const oldest = throttle.keys().next().value as string;
      throttle.delete(oldest);
    }
  };

  return {
    level: options.level,
    enabled: (level) => RANK[level] >= threshold && level !== "off",
    trace: (msg, fields) => log("trace", msg, fields),
    debug: (msg, fields) => log("debug", msg, fields),
    info: (msg, fields) => log("info", msg, fields),
    warn: (msg, fields) => log("warn", msg, fields),
    error: (msg, fields) => log("error", msg, fields),
    log,
    throttled(key, level, msg, fields) {
      if (RANK[level] < threshold || level === "off") return;
      const at = now();
      const state = throttle.get(key);
      if (state === undefined) {
        if (throttle.size >= MAX_THROTTLE_KEYS) prune(at);
        throttle.set(key, { lastMs: at, suppressed: 0, level, msg, fields });
        write(level, msg, fields);
        return;
      }
      if (at - state.lastMs < interval) {
        state.suppressed++;
        state.level = level;
        state.msg = msg;
        state.fields = fields;
        return;
      }
      write(level, msg, fields, state.suppressed > 0 ? { suppressed: state.suppressed } : undefined);
      state.lastMs = at;
      state.suppressed = 0;
    },
    flushThrottled() {
      for (const state of throttle.values()) {
        if (state.suppressed === 0) continue;
        write(state.level, state.msg, state.fields, { suppressed: state.suppressed });
        state.suppressed = 0;
      }
    },
  };
}

/** JSON with secrets masked; bigint as a string, errors as {name, message, code}. */
function stringify(record: Record<string, unknown>): string {
  return JSON.stringify(redact(record), (_key, value: unknown) => (typeof value === "bigint" ? value.toString() : value));
}

/** A logger that drops everything (for tests and library use). */
export function silentLogger(): Logger {
  return createLogger({ level: "off", sink: () => {}, clock: { nowUs: () => 0 } });
}
