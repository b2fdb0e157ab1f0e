import { describe, expect, test } from "bun:test";
import { escapeHelp, escapeLabelValue, formatValue, renderFamily } from "../../src/observe/prom-text.ts";

describe("prom-text", () => {
  test("formatValue() writes infinities and NaN the Prometheus way", () => {
    expect(formatValue(Number.POSITIVE_INFINITY)).toBe("+Inf");
    expect(formatValue(Number.NEGATIVE_INFINITY)).toBe("-Inf");
    expect(formatValue(Number.NaN)).toBe("NaN");
    expect(formatValue(0.00005)).toBe("0.00005");
    expect(formatValue(42)).toBe("42");
  });

  test("escapeLabelValue() escapes backslash, double quote and newline only", () => {
    expect(escapeLabelValue('a\\b"c\nd\te')).toBe('a\\\\b\\"c\\nd\te');
  });

  test("escapeHelp() leaves double quotes alone", () => {
    expect(escapeHelp('say "hi"\\\n')).toBe('say "hi"\\\\\\n');
  });

  test("renderFamily() writes labels in the given order", () => {
    const text = renderFamily({
      name: "m_total",
      help: "h",
      type: "counter",
      samples: [{ name: "m_total", labels: [["b", "1"], ["a", "2"]], value: 3 }],
    });
    expect(text).toBe('# HELP m_total h\n# TYPE m_total counter\nm_total{b="1",a="2"} 3\n');
  });
});
