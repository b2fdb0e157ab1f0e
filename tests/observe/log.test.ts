import { describe, expect, test } from "bun:test";
import { createLogger, type LogLevel } from "../../src/observe/log.ts";

function capture(level: LogLevel, throttleMs = 10_000) {
  const lines: string[] = [];
  let clock = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
  const logger = createLogger({ level, sink: (line) => lines.push(line), clock: { nowUs: () => clock * 1000 }, throttleMs });
  return {
    logger,
    lines,
    records: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),
    advance: (ms: number) => {
      clock += ms;
    },
  };
}

describe("createLogger()", () => {
  test("writes one JSON object per line with ts, level, msg first and then the fields", () => {
    const { logger, lines } = capture("info");
    logger.info("listening", { address: "127.0.0.1:12345", pid: 7 });
    expect(lines).toEqual(['{"ts":"2026-01-02T03:04:05.678Z","level":"info","msg":"listening","address":"127.0.0.1:12345","pid":7}\n']);
  });

  test("filters lines below the configured level and off silences everything", () => {
    const warn = capture("warn");
    warn.logger.trace("t");
    warn.logger.debug("d");
    warn.logger.info("i");
    warn.logger.warn("w");
    warn.logger.error("e");
    expect(warn.records().map((r) => r.level)).toEqual(["warn", "error"]);
    expect(warn.logger.enabled("info")).toBe(false);
    expect(warn.logger.enabled("error")).toBe(true);
    const off = capture("off");
    off.logger.error("e");
    off.logger.throttled("k", "error", "e");
    expect(off.lines).toEqual([]);
  });

  test("a field named like a reserved key does not overwrite ts, level or msg", () => {
    const { logger, records } = capture("info");
    logger.info("real", { msg: "fake", level: "x" });
    expect(records()[0]).toMatchObject({ msg: "real", level: "info", field_msg: "fake", field_level: "x" });
  });

  test("secrets in fields and URLs are redacted, errors and bigints serialise", () => {
    const { logger, lines } = capture("info");
    logger.error("store failed", { url: "redis://agent:pw@valkey:6379", password: "pw", error: new RangeError("bad"), big: 2n ** 70n });
    expect(lines[0]).not.toContain("pw@");
    expect(lines[0]).not.toContain('"pw"');
    expect(JSON.parse(lines[0])).toMatchObject({
      url: "redis://agent:***@valkey:6379",
      password: "***",
      error: { name: "RangeError", message: "bad" },
      big: "1180591620717411303424",
    });
  });

  test("throttled() logs the first occurrence, swallows repeats, then reports them with suppressed after the interval", () => {
    const { logger, records, advance } = capture("info", 10_000);
    for (let i = 0; i < 500; i++) logger.throttled("disconnect:4", "warn", "protocol error", { status: 4 });
    expect(records()).toHaveLength(1);
    expect(records()[0].suppressed).toBeUndefined();
    advance(9_999);
    logger.throttled("disconnect:4", "warn", "protocol error", { status: 4 });
    expect(records()).toHaveLength(1);
    advance(1);
    logger.throttled("disconnect:4", "warn", "protocol error", { status: 4 });
    expect(records()).toHaveLength(2);
    expect(records()[1]).toMatchObject({ msg: "protocol error", status: 4, suppressed: 500 });
  });

  test("throttled() keys are independent", () => {
    const { logger, records } = capture("info");
    logger.throttled("a", "warn", "A");
    logger.throttled("b", "warn", "B");
    logger.throttled("a", "warn", "A");
    expect(records().map((r) => r.msg)).toEqual(["A", "B"]);
  });

  test("flushThrottled() reports repeats still pending and only those", () => {
    const { logger, records } = capture("info");
    logger.throttled("a", "error", "A");
    logger.throttled("a", "error", "A");
    logger.throttled("a", "error", "A");
    logger.throttled("b", "error", "B");
    logger.flushThrottled();
    expect(records().map((r) => [r.msg, r.suppressed])).toEqual([["A", undefined], ["B", undefined], ["A", 2]]);
    logger.flushThrottled();
    expect(records()).toHaveLength(3);
  });

  test("throttled() below the level leaves no state behind", () => {
    const { logger, records } = capture("error");
    logger.throttled("a", "warn", "A");
    logger.flushThrottled();
    expect(records()).toEqual([]);
  });

  test("base fields appear on every line", () => {
    const { records } = capture("info");
    const lines: string[] = [];
    const logger = createLogger({ level: "info", sink: (l) => lines.push(l), clock: { nowUs: () => 0 }, base: { pid: 42 } });
    logger.info("x");
    expect(JSON.parse(lines[0])).toMatchObject({ pid: 42, ts: "1970-01-01T00:00:00.000Z" });
    expect(records()).toEqual([]);
  });
});

