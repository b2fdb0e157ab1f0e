import { describe, expect, test } from "bun:test";
import { LATENCY_BUCKETS, MAX_CHILDREN, Registry } from "../../src/observe/metrics.ts";
import { parsePrometheus, sampleValue } from "./prom-parser.ts";

describe("Registry.render()", () => {
  test("renders HELP and TYPE before the samples of every family, in declaration order", () => {
    const registry = new Registry();
    registry.counter({ name: "spoa_a_total", help: "A." }).inc();
    registry.gauge({ name: "spoa_b", help: "B." }).set(2);
    const text = registry.render();
    expect(text).toBe("# HELP spoa_a_total A.\n# TYPE spoa_a_total counter\nspoa_a_total 1\n# HELP spoa_b B.\n# TYPE spoa_b gauge\nspoa_b 2\n");
    expect(parsePrometheus(text).size).toBe(2);
  });

  test("escapes backslash, quote and newline in label values and backslash and newline in HELP", () => {
    const registry = new Registry();
    registry.counter({ name: "x_total", help: "line one\nback\\slash", labelNames: ["limit"] }).labels('a"b\\c\nd').inc(3);
    const text = registry.render();
    expect(text).toContain("# HELP x_total line one\\nback\\\\slash\n");
    expect(text).toContain('x_total{limit="a\\"b\\\\c\\nd"} 3\n');
    expect(sampleValue(parsePrometheus(text), "x_total", { limit: 'a"b\\c\nd' })).toBe(3);
  });

  test("an empty registry renders an empty exposition", () => {
    expect(new Registry().render()).toBe("");
  });
});

describe("Counter", () => {
  test("labels() returns the same cached child for the same values", () => {
    const counter = new Registry().counter({ name: "d_total", help: "h", labelNames: ["limit", "result"] });
    const a = counter.labels("per-ip", "deny");
    expect(counter.labels("per-ip", "deny")).toBe(a);
    expect(counter.labels("per-ip", "allow")).not.toBe(a);
  });

  test("inc() accumulates per label set and a resolved child renders 0 before any increment", () => {
    const registry = new Registry();
    const counter = registry.counter({ name: "d_total", help: "h", labelNames: ["result"] });
    const deny = counter.labels("deny");
    counter.labels("allow");
    deny.inc();
    deny.inc(2);
    const families = parsePrometheus(registry.render());
    expect(sampleValue(families, "d_total", { result: "deny" })).toBe(3);
    expect(sampleValue(families, "d_total", { result: "allow" })).toBe(0);
  });

  test("a negative increment is refused", () => {
    const counter = new Registry().counter({ name: "n_total", help: "h" });
    expect(() => counter.inc(-1)).toThrow(RangeError);
    expect(counter.value()).toBe(0);
  });

  test("a counter name without _total is refused", () => {
    expect(() => new Registry().counter({ name: "spoa_decisions", help: "h" })).toThrow(TypeError);
  });

  test("inc() on a labelled counter without labels() is refused", () => {
    const counter = new Registry().counter({ name: "l_total", help: "h", labelNames: ["kind"] });
    expect(() => counter.inc()).toThrow(TypeError);
  });

  test("labels() with the wrong number of values is refused", () => {
    const counter = new Registry().counter({ name: "l_total", help: "h", labelNames: ["kind"] });
    expect(() => counter.labels("a", "b")).toThrow(RangeError);
  });

  test("labels() refuses more than MAX_CHILDREN label sets; the sets it holds keep counting", () => {
    const registry = new Registry();
    const counter = registry.counter({ name: "c_total", help: "h", labelNames: ["k"] });
    const first = counter.labels("0");
    first.inc(3);
    for (let i = 1; i < MAX_CHILDREN; i++) counter.labels(String(i));
    expect(() => counter.labels("one-too-many")).toThrow(RangeError);
    expect(counter.labels("0")).toBe(first);
    counter.labels("0").inc();
    expect(first.value()).toBe(4);
    const samples = registry.render().split("\n").filter((line) => line.startsWith("c_total{"));
    expect([samples.length, samples[0], samples.some((line) => line.includes("one-too-many"))]).toEqual([MAX_CHILDREN, 'c_total{k="0"} 4', false]);
  });
});

describe("Registry declarations", () => {
  test("a duplicate metric name is refused", () => {
    const registry = new Registry();
    registry.gauge({ name: "g", help: "h" });
    expect(() => registry.counter({ name: "g", help: "h" } as never)).toThrow(TypeError);
    expect(() => registry.gauge({ name: "g", help: "h" })).toThrow(TypeError);
  });

  test("invalid metric and label names are refused", () => {
    const registry = new Registry();
    expect(() => registry.gauge({ name: "1bad", help: "h" })).toThrow(TypeError);
    expect(() => registry.gauge({ name: "ok", help: "h", labelNames: ["bad-label"] })).toThrow(TypeError);
    expect(() => registry.gauge({ name: "ok2", help: "h", labelNames: ["__reserved"] })).toThrow(TypeError);
    expect(() => registry.gauge({ name: "ok3", help: "h", labelNames: ["a", "a"] })).toThrow(TypeError);
  });
});

describe("Gauge", () => {
  test("set, inc and dec change the value", () => {
    const registry = new Registry();
    const gauge = registry.gauge({ name: "open", help: "h" });
    gauge.set(5);
    gauge.inc();
    gauge.dec(3);
    expect(gauge.value()).toBe(3);
    expect(sampleValue(parsePrometheus(registry.render()), "open")).toBe(3);
  });

  test("a computed gauge calls its callback at every scrape", () => {
    const registry = new Registry();
    let current = 1;
    registry.gauge({ name: "computed", help: "h", collect: () => current });
    expect(sampleValue(parsePrometheus(registry.render()), "computed")).toBe(1);
    current = 7.5;
    expect(sampleValue(parsePrometheus(registry.render()), "computed")).toBe(7.5);
  });

  test("a throwing callback renders NaN and the rest of the scrape still works", () => {
    const registry = new Registry();
    registry.gauge({ name: "broken", help: "h", collect: () => { throw new Error("boom"); } });
    registry.gauge({ name: "fine", help: "h" }).set(1);
    const families = parsePrometheus(registry.render());
    expect(sampleValue(families, "broken")).toBeNaN();
    expect(sampleValue(families, "fine")).toBe(1);
  });

  test("labelled gauges render one sample per label set", () => {
    const registry = new Registry();
    const info = registry.gauge({ name: "build_info", help: "h", labelNames: ["version", "runtime"] });
    info.labels("0.1.0", "bun").set(1);
    expect(registry.render()).toContain('build_info{version="0.1.0",runtime="bun"} 1\n');
  });

  test("a computed gauge with labels is refused", () => {
    expect(() => new Registry().gauge({ name: "x", help: "h", labelNames: ["a"], collect: () => 1 })).toThrow(TypeError);
  });
});

describe("Histogram", () => {
  test("observe() fills cumulative buckets, sum and count; +Inf equals count", () => {
    const registry = new Registry();
    const histogram = registry.histogram({ name: "lat_seconds", help: "h" });
    for (const v of [0.00001, 0.00005, 0.0003, 0.004, 0.2]) histogram.observe(v);
    const families = parsePrometheus(registry.render());
    expect(sampleValue(families, "lat_seconds_bucket", { le: "0.00005" })).toBe(2); // le is inclusive
    expect(sampleValue(families, "lat_seconds_bucket", { le: "0.0001" })).toBe(2);
    expect(sampleValue(families, "lat_seconds_bucket", { le: "0.0005" })).toBe(3);
    expect(sampleValue(families, "lat_seconds_bucket", { le: "0.005" })).toBe(4);
    expect(sampleValue(families, "lat_seconds_bucket", { le: "0.1" })).toBe(4);
    expect(sampleValue(families, "lat_seconds_bucket", { le: "+Inf" })).toBe(5);
    expect(sampleValue(families, "lat_seconds_count")).toBe(5);
    expect(sampleValue(families, "lat_seconds_sum")).toBeCloseTo(0.20436, 10);
    expect(histogram.snapshot().count).toBe(5);
  });

  test("renders one bucket per configured bound plus +Inf", () => {
    const registry = new Registry();
    registry.histogram({ name: "h_seconds", help: "h" });
    const buckets = parsePrometheus(registry.render()).get("h_seconds")?.samples.filter((s) => s.name === "h_seconds_bucket");
    expect(buckets?.map((b) => b.labels.le)).toEqual([...LATENCY_BUCKETS.map(String), "+Inf"]);
  });

  test("labelled histograms keep separate series", () => {
    const registry = new Registry();
    const histogram = registry.histogram({ name: "s_seconds", help: "h", labelNames: ["op"], buckets: [0.001, 0.01] });
    histogram.labels("eval").observe(0.002);
    histogram.labels("ping").observe(0.0001);
    const families = parsePrometheus(registry.render());
    expect(sampleValue(families, "s_seconds_bucket", { op: "eval", le: "0.001" })).toBe(0);
    expect(sampleValue(families, "s_seconds_bucket", { op: "eval", le: "0.01" })).toBe(1);
    expect(sampleValue(families, "s_seconds_bucket", { op: "ping", le: "0.001" })).toBe(1);
  });

  test("unsorted buckets and the le label are refused", () => {
    const registry = new Registry();
    expect(() => registry.histogram({ name: "a", help: "h", buckets: [0.1, 0.01] })).toThrow(RangeError);
    expect(() => registry.histogram({ name: "b", help: "h", buckets: [0.1, Number.POSITIVE_INFINITY] })).toThrow(RangeError);
    expect(() => registry.histogram({ name: "c", help: "h", labelNames: ["le"] })).toThrow(TypeError);
  });
});
