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
import type { Registry } from "../../observe/metrics.ts";

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

/** Registers the descriptor metrics and starts sampling (`timers: false` samples only on demand). */
export function startFdWatch(deps: {
  readonly registry: Registry;
  readonly logger: Logger;
  readonly source?: FdSource;
  readonly timers?: false;
}): FdWatch {
  const source = deps.source ?? procFdSource;
  const { registry, logger } = deps;
  const max = source.max();
  let open = 0;
  let atLimit = false;
  registry.gauge({ name: "spoa_process_open_fds", help: "Open file descriptors (sampled every second; 0 where unknown).", collect: () => open });
  registry.gauge({ name: "spoa_process_max_fds", help: "Soft limit on open file descriptors (RLIMIT_NOFILE; 0 where unknown)." }).set(max ?? 0);
  const reached = registry.counter({ name: "spoa_fd_limit_reached_total", help: "Times the descriptor count reached the limit: new connections wait in the listen backlog." });
  const acceptErrors = registry.counter({ name: "spoa_accept_errors_total", help: "Failed accepts reported by the runtime, by errno (Bun retries silently: see spoa_fd_limit_reached_total).", labelNames: ["code"] });

  const sample = () => {
    const now = source.open();
    if (now === undefined) return;
    open = now === "exhausted" ? (max ?? open) : now;
    const full = now === "exhausted" || (max !== undefined && now >= max - HEADROOM);
    if (full && !atLimit) {
      reached.inc();
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
      acceptErrors.labels(code).inc();
      logger.throttled(`accept-failed:${code}`, "warn", "accept failed; retrying", { code, error: String(error) });
      if (code === "EMFILE" || code === "ENFILE") sample();
    },
    sample,
    stop: () => clearInterval(timer),
  };
}
