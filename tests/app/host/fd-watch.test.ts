import { describe, expect, test } from "bun:test";
import { type FdSource, parseMaxOpenFiles, startFdWatch } from "../../../src/app/host/fd-watch.ts";
import { createTelemetry } from "../../../src/app/telemetry.ts";
import { createLogger } from "../../../src/observe/log.ts";
import { Registry } from "../../../src/observe/metrics.ts";

const LIMITS = `Limit                     Soft Limit           Hard Limit           Units
Max processes             unlimited            unlimited            processes
Max open files            1024                 524288               files
`;

function setup(open: () => number | "exhausted" | undefined, max: number | undefined) {
  const registry = new Registry();
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({ level: "info", sink: (line) => lines.push(JSON.parse(line)), clock: { nowUs: () => 0 }, base: {} });
  const source: FdSource = { open, max: () => max };
  const telemetry = createTelemetry({ registry, logger, pid: 1, memoryUsage: () => ({ rss: 0, heapUsed: 0 }), version: "test", lagTimers: false });
  const watch = startFdWatch({ metrics: telemetry.fds, logger, source, timers: false });
  return { registry, lines, watch };
}

describe("fd-watch", () => {
  test("parseMaxOpenFiles() reads the soft limit; unlimited or missing is undefined", () => {
    expect(parseMaxOpenFiles(LIMITS)).toBe(1024);
    expect(parseMaxOpenFiles("Max open files            unlimited            unlimited            files\n")).toBeUndefined();
    expect(parseMaxOpenFiles("")).toBeUndefined();
  });

  test("reaching the limit is counted once per episode and logged; leaving it is logged too", () => {
    let open: number | "exhausted" = 10;
    const { registry, lines, watch } = setup(() => open, 64);
    open = 63;
    watch.sample();
    watch.sample();
    open = "exhausted"; // listing /proc/self/fd itself failed with EMFILE
    watch.sample();
    open = 20;
    watch.sample();
    open = 64;
    watch.sample();
    const text = registry.render();
    expect(text).toContain("spoa_fd_limit_reached_total 2");
    expect(text).toContain("spoa_process_max_fds 64");
    expect(text).toContain("spoa_process_open_fds 64");
    expect(lines.filter((l) => l.msg === "file descriptors available again")).toHaveLength(1);
    expect(lines.some((l) => String(l.msg).startsWith("file descriptor limit reached"))).toBe(true);
  });

  test("acceptFailed() counts by errno, reading Deno's 'os error 24' as EMFILE, and logs throttled", () => {
    const { registry, lines, watch } = setup(() => 5, 64);
    for (let i = 0; i < 50; i++) watch.acceptFailed(new Error("Too many open files (os error 24)"));
    watch.acceptFailed(Object.assign(new Error("accept ENFILE"), { code: "ENFILE" }));
    watch.acceptFailed(new Error("something else"));
    const text = registry.render();
    expect(text).toContain('spoa_accept_errors_total{code="EMFILE"} 50');
    expect(text).toContain('spoa_accept_errors_total{code="ENFILE"} 1');
    expect(text).toContain('spoa_accept_errors_total{code="other"} 1');
    expect(lines.filter((l) => l.msg === "accept failed; retrying").length).toBeLessThan(10);
  });

  test("without /proc (not Linux) the gauges read 0 and nothing is counted", () => {
    const { registry, watch } = setup(() => undefined, undefined);
    watch.sample();
    expect(registry.render()).toContain("spoa_process_max_fds 0");
    expect(registry.render()).toContain("spoa_fd_limit_reached_total 0");
  });
});
