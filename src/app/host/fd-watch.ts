/**
 * Descriptor exhaustion, made visible. At the RLIMIT_NOFILE limit the kernel still completes
 * HAProxy's TCP handshakes into the listen backlog, but accept(2) fails with EMFILE:
 *
 * - Deno (and Node) report each failed accept: the listener calls `acceptFailed`, which counts
 *   it and logs it (throttled), and the adapter backs off 100 ms and tries again.
 * - Bun retries the accept inside its event loop and reports nothing (measured: about a third
 *   of a core spent retrying while at the limit). So the agent also samples its own descriptor
 *   count (/proc/self/fd) against the soft limit (/proc/self/limits) once a second and counts
 *   each time it reaches the limit.
 *
 * Connections already accepted are served throughout; when descriptors free up, the queued
 * connections are accepted (both runtimes recover by themselves, tests/e2e/limits-fds).
 * @module
 */
import { readdirSync, readFileSync } from "node:fs";
import type { Logger } from "../../observe/log.ts";

/** Sampling period of the descriptor count. */
const SAMPLE_MS = 1_000;
/** Descriptors kept free for the agent's own needs (a scrape, a log write): "at the limit" starts here. */
const HEADROOM = 2;

/** The soft "Max open files" of /proc/self/limits, or undefined (not Linux, unlimited). */
export function parseMaxOpenFiles(limits: string): number | undefined {
  const line = limits.split("\n").find((l) => l.startsWith("Max open files"));
  const soft = line?.slice("Max open files".length).trim().split(/\s+/)[0];
  const value = Number(soft);
  return soft === undefined || soft === "unlimited" || !Number.isFinite(value) ? undefined : value;
}

/** What the watch reads; replaced in tests. */
export interface FdSource {
  /** Open descriptors, or "exhausted" when counting them failed with EMFILE/ENFILE. */
  open(): number | "exhausted" | undefined;
  max(): number | undefined;
}

/** /proc/self on Linux. */
export const procFdSource: FdSource = {
  open() {
    try {
      return readdirSync("/proc/self/fd").length;
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      // Listing the directory needs a descriptor itself: failing for want of one is the answer.
      return code === "EMFILE" || code === "ENFILE" ? "exhausted" : undefined;
    }
  },
  max() {
    try {
      return parseMaxOpenFiles(readFileSync("/proc/self/limits", "utf8"));
    } catch {
      return undefined;
    }
  },
};

/** The running watch. */
export interface FdWatch {
  /** Pass as the listener's onAcceptError. */
  acceptFailed(error: unknown): void;
  /** One sample now (the timer calls this every second). */
  sample(): void;
  stop(): void;
}

function errnoCode(error: unknown): string {
  const code = typeof error === "object" && error !== null ? (error as { code?: unknown }).code : undefined;
  if (typeof code === "string") return code;
  // Deno's errors carry no code: "Too many open files (os error 24)".
  const text = String(error);
  if (/os error 24\b|EMFILE/.test(text)) return "EMFILE";
  if (/os error 23\b|ENFILE/.test(text)) return "ENFILE";
  return "other";
}

/** Where the watch reports: telemetry declares the metrics behind these. */
export interface FdMetrics {
  /** The soft limit, once at start (0 where unknown). */
  max(limit: number): void;
  /** How to read the open count when /metrics is scraped. */
  open(read: () => number): void;
  /** The count reached the limit (once per episode). */
  limitReached(): void;
  /** An accept failed with this errno code. */
  acceptFailed(code: string): void;
}

/** Starts sampling (`timers: false` samples only on demand), reporting to `metrics`. */
export function startFdWatch(deps: {
  readonly metrics: FdMetrics;
  readonly logger: Logger;
  readonly source?: FdSource;
  readonly timers?: false;
}): FdWatch {
  const source = deps.source ?? procFdSource;
  const { metrics, logger } = deps;
  const max = source.max();
  let open = 0;
  let atLimit = false;
  metrics.open(() => open);
  metrics.max(max ?? 0);

  const sample = () => {
    const now = source.open();
    if (now === undefined) return;
    open = now === "exhausted" ? (max ?? open) : now;
    const full = now === "exhausted" || (max !== undefined && now >= max - HEADROOM);
    if (full && !atLimit) {
      metrics.limitReached();
      logger.throttled("fd-limit", "warn", "file descriptor limit reached: new HAProxy connections wait in the listen backlog", { open, max, advice: "raise `ulimit -n` (LimitNOFILE) or lower HAProxy's connections to the agent" });
    } else if (!full && atLimit) {
      logger.info("file descriptors available again", { open, max });
    }
    atLimit = full;
  };
  const timer = deps.timers === false || max === undefined ? undefined : setInterval(sample, SAMPLE_MS);
  (timer as { unref?: () => void } | undefined)?.unref?.();
  sample();
  return {
    acceptFailed(error: unknown) {
      const code = errnoCode(error);
      metrics.acceptFailed(code);
      logger.throttled(`accept-failed:${code}`, "warn", "accept failed; retrying", { code, error: String(error) });
      if (code === "EMFILE" || code === "ENFILE") sample();
    },
    sample,
    stop: () => clearInterval(timer),
  };
}
