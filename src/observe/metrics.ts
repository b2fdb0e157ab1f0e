/**
 * A tiny metrics registry: counters, gauges and fixed-bucket histograms with bounded labels,
 * rendered in the Prometheus text exposition format 0.0.4.
 *
 * Hot-path rule: resolve a labelled child once (`counter.labels("per-ip", "deny")`) and keep
 * it; `inc()`/`observe()` on a child touch numbers only, never strings.
 * @module
 */
import { formatValue, renderFamily, type Sample } from "./prom-text.ts";

/** Latency buckets in seconds (50 µs … 100 ms; +Inf is implicit). */
export const LATENCY_BUCKETS: readonly number[] = [
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
];

/** Children per metric before `labels()` refuses: label values must come from a bounded set. */
export const MAX_CHILDREN = 1000;

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** What every metric is declared with. */
export interface MetricOptions {
  /** Full sample name; a counter's must end in `_total`. */
  readonly name: string;
  readonly help: string;
  readonly labelNames?: readonly string[];
}

/** A counter (or its labelled child) that only goes up. */
export interface CounterChild {
  inc(by?: number): void;
  value(): number;
}

/** A settable gauge (or its labelled child). */
export interface GaugeChild {
  set(value: number): void;
  inc(by?: number): void;
  dec(by?: number): void;
  value(): number;
}

/** A histogram (or its labelled child). */
export interface HistogramChild {
  observe(value: number): void;
  /** Observations so far and their sum. */
  snapshot(): { readonly count: number; readonly sum: number };
}

interface Family {
  render(): string;
}

/** Keeps metric children per label-value tuple; the lookup key is built only when resolving. */
abstract class LabelledFamily<C> implements Family {
  readonly #children = new Map<string, { readonly values: readonly string[]; readonly child: C }>();
  readonly #default: C | undefined;

  constructor(
    readonly options: MetricOptions,
    readonly type: "counter" | "gauge" | "histogram",
  ) {
    this.#default = this.labelNames.length === 0 ? this.newChild() : undefined;
  }

  get labelNames(): readonly string[] {
    return this.options.labelNames ?? [];
  }

  /** The child for these label values (one per label name), created on first use and cached. */
  labels(...values: string[]): C {
    if (values.length !== this.labelNames.length) {
      throw new RangeError(`Metric ${this.options.name} takes ${this.labelNames.length} label values, got ${values.length}`);
    }
    const key = values.join("\u0000");
    const found = this.#children.get(key);
    if (found !== undefined) return found.child;
    if (this.#children.size >= MAX_CHILDREN) {
      throw new RangeError(`Metric ${this.options.name} exceeds ${MAX_CHILDREN} label sets: label values must be bounded`);
    }
    const child = this.newChild();
    this.#children.set(key, { values: [...values], child });
    return child;
  }

  /** The unlabelled child; a labelled metric has none. */
  protected get single(): C {
    if (this.#default === undefined) {
      throw new TypeError(`Metric ${this.options.name} has labels: resolve a child with labels(...) first`);
    }
    return this.#default;
  }

  render(): string {
    const samples: Sample[] = [];
    const names = this.labelNames;
    if (this.#default !== undefined) this.collect(this.#default, [], samples);
    for (const { values, child } of this.#children.values()) {
      this.collect(child, names.map((name, i) => [name, values[i]] as const), samples);
    }
    return renderFamily({ name: this.options.name, help: this.options.help, type: this.type, samples });
  }

  protected abstract newChild(): C;
  protected abstract collect(child: C, labels: readonly (readonly [string, string])[], out: Sample[]): void;
}

class CounterImpl implements CounterChild {
  #value = 0;
  inc(by = 1): void {
    // A counter that goes down breaks rate(); refuse instead of lying.
    if (!(by >= 0)) throw new RangeError(`Counter increment must be >= 0, got ${by}`);
    this.#value += by;
  }
  value(): number {
    return this.#value;
  }
}

/** Options of a counter; `collect` reads a count kept elsewhere at scrape time (unlabelled only). */
export interface CounterOptions extends MetricOptions {
  /** Must never go down (a count some component keeps, such as evictions). */
  readonly collect?: () => number;
}

/** A monotonic counter family: incremented directly, or read by `collect` at scrape time. */
export class Counter extends LabelledFamily<CounterChild> implements CounterChild {
  readonly #collectFn: (() => number) | undefined;

  constructor(options: CounterOptions) {
    super(options, "counter");
    if (options.collect !== undefined && (options.labelNames?.length ?? 0) > 0) {
      throw new TypeError(`Counter ${options.name}: a computed counter cannot have labels`);
    }
    this.#collectFn = options.collect;
  }
  inc(by?: number): void {
    this.single.inc(by);
  }
  value(): number {
    return this.#collectFn === undefined ? this.single.value() : readComputed(this.#collectFn);
  }
  protected newChild(): CounterChild {
    return new CounterImpl();
  }
  protected collect(child: CounterChild, labels: readonly (readonly [string, string])[], out: Sample[]): void {
    const value = this.#collectFn === undefined ? child.value() : readComputed(this.#collectFn);
    out.push({ name: this.options.name, labels, value });
  }
}

class GaugeImpl implements GaugeChild {
  #value = 0;
  set(value: number): void {
    this.#value = value;
  }
  inc(by = 1): void {
    this.#value += by;
  }
  dec(by = 1): void {
    this.#value -= by;
  }
  value(): number {
    return this.#value;
  }
}

/** Options of a gauge; `collect` makes it computed at scrape time (unlabelled only). */
export interface GaugeOptions extends MetricOptions {
  readonly collect?: () => number;
}

/** A gauge family: set directly, or computed by `collect` at scrape time. */
export class Gauge extends LabelledFamily<GaugeChild> implements GaugeChild {
  readonly #collectFn: (() => number) | undefined;

  constructor(options: GaugeOptions) {
    super(options, "gauge");
    if (options.collect !== undefined && (options.labelNames?.length ?? 0) > 0) {
      throw new TypeError(`Gauge ${options.name}: a computed gauge cannot have labels`);
    }
    this.#collectFn = options.collect;
  }
  set(value: number): void {
    this.single.set(value);
  }
  inc(by?: number): void {
    this.single.inc(by);
  }
  dec(by?: number): void {
    this.single.dec(by);
  }
  value(): number {
    return this.#collectFn === undefined ? this.single.value() : readComputed(this.#collectFn);
  }
  protected newChild(): GaugeChild {
    return new GaugeImpl();
  }
  protected collect(child: GaugeChild, labels: readonly (readonly [string, string])[], out: Sample[]): void {
    const value = this.#collectFn === undefined ? child.value() : readComputed(this.#collectFn);
    out.push({ name: this.options.name, labels, value });
  }
}

/** A failing callback shows as NaN on the scrape: visible, and one bad gauge cannot break /metrics. */
function readComputed(collect: () => number): number {
  try {
    return collect();
  } catch {
    return Number.NaN;
  }
}

class HistogramImpl implements HistogramChild {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  constructor(readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1);
  }
  observe(value: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]) i++;
    this.counts[i]++;
    this.sum += value;
    this.count++;
  }
  snapshot(): { readonly count: number; readonly sum: number } {
    return { count: this.count, sum: this.sum };
  }
}

/** Options of a histogram: strictly increasing finite upper bounds (+Inf is added). */
export interface HistogramOptions extends MetricOptions {
  readonly buckets?: readonly number[];
}

/** A histogram family with fixed buckets. */
export class Histogram extends LabelledFamily<HistogramChild> implements HistogramChild {
  constructor(options: HistogramOptions) {
    const buckets = options.buckets ?? LATENCY_BUCKETS;
    for (let i = 0; i < buckets.length; i++) {
      if (!Number.isFinite(buckets[i]) || (i > 0 && buckets[i] <= buckets[i - 1])) {
        throw new RangeError(`Histogram ${options.name}: buckets must be finite and strictly increasing`);
      }
    }
    if (options.labelNames?.includes("le")) throw new TypeError(`Histogram ${options.name}: "le" is a reserved label`);
    super({ ...options, buckets: [...buckets] } as HistogramOptions, "histogram");
  }
  observe(value: number): void {
    this.single.observe(value);
  }
  snapshot(): { readonly count: number; readonly sum: number } {
    return this.single.snapshot();
  }
  protected newChild(): HistogramChild {
    return new HistogramImpl((this.options as HistogramOptions).buckets ?? LATENCY_BUCKETS);
  }
  protected collect(child: HistogramChild, labels: readonly (readonly [string, string])[], out: Sample[]): void {
    const h = child as HistogramImpl;
    const name = this.options.name;
    let cumulative = 0;
    for (let i = 0; i <= h.bounds.length; i++) {
      cumulative += h.counts[i];
      const le = i < h.bounds.length ? formatValue(h.bounds[i]) : "+Inf";
      out.push({ name: `${name}_bucket`, labels: [...labels, ["le", le]], value: cumulative });
    }
    out.push({ name: `${name}_sum`, labels, value: h.sum });
    out.push({ name: `${name}_count`, labels, value: h.count });
  }
}

/** Owns every metric family and renders them all for a scrape. */
export class Registry {
  readonly #families = new Map<string, Family>();

  /** Declares a counter; its name must end in `_total`. */
  counter(options: CounterOptions): Counter {
    if (!options.name.endsWith("_total")) throw new TypeError(`Counter ${options.name} must end in _total`);
    return this.#add(options, new Counter(checked(options)));
  }

  /** Declares a gauge, settable or computed by `options.collect`. */
  gauge(options: GaugeOptions): Gauge {
    return this.#add(options, new Gauge(checked(options)));
  }

  /** Declares a histogram with fixed buckets (default LATENCY_BUCKETS). */
  histogram(options: HistogramOptions): Histogram {
    return this.#add(options, new Histogram(checked(options)));
  }

  /**
   * Declares a gauge whose samples `collect` builds at each scrape: for label sets that change
   * (the top few identities), where children would pile up. `collect` must bound its samples.
   */
  computedGauge(options: MetricOptions, collect: () => readonly Sample[]): void {
    const { name, help } = checked(options);
    this.#add(options, { render: () => renderFamily({ name, help, type: "gauge", samples: readComputedSamples(collect) }) });
  }

  /** Every family in declaration order, as Prometheus text format 0.0.4. */
  render(): string {
    let text = "";
    for (const family of this.#families.values()) text += family.render();
    return text;
  }

  #add<F extends Family>(options: MetricOptions, family: F): F {
    if (this.#families.has(options.name)) throw new TypeError(`Metric ${options.name} is already registered`);
    this.#families.set(options.name, family);
    return family;
  }
}

/** A scrape must not fail because one computed family threw: it renders empty. */
function readComputedSamples(collect: () => readonly Sample[]): readonly Sample[] {
  try {
    return collect();
  } catch {
    return [];
  }
}

function checked<O extends MetricOptions>(options: O): O {
  if (!METRIC_NAME.test(options.name)) throw new TypeError(`Invalid metric name: ${JSON.stringify(options.name)}`);
  const labels = options.labelNames ?? [];
  for (const label of labels) {
    if (!LABEL_NAME.test(label) || label.startsWith("__")) {
      throw new TypeError(`Metric ${options.name}: invalid label name ${JSON.stringify(label)}`);
    }
  }
  if (new Set(labels).size !== labels.length) throw new TypeError(`Metric ${options.name}: duplicate label names`);
  return options;
}
