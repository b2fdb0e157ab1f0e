// A strict little parser for Prometheus text format 0.0.4, so tests check the exposition the
// way a scraper would: every line is a comment or a well-formed sample, HELP/TYPE come before
// a family's samples, histogram buckets are cumulative and +Inf equals _count.

/** One parsed sample. */
export interface ParsedSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** One metric family with its samples. */
export interface ParsedFamily {
  readonly name: string;
  readonly help: string;
  readonly type: string;
  readonly samples: ParsedSample[];
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/;
const LABEL = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)/;

function parseValue(text: string, line: string): number {
  if (text === "+Inf") return Number.POSITIVE_INFINITY;
  if (text === "-Inf") return Number.NEGATIVE_INFINITY;
  if (text === "NaN") return Number.NaN;
  const value = Number(text);
  if (text === "" || Number.isNaN(value)) throw new Error(`bad value in line: ${line}`);
  return value;
}

function parseLabels(text: string, line: string): Record<string, string> {
  const labels: Record<string, string> = {};
  let rest = text;
  while (rest.length > 0) {
    const m = LABEL.exec(rest);
    if (!m) throw new Error(`bad labels in line: ${line}`);
    if (m[1] in labels) throw new Error(`duplicate label ${m[1]} in line: ${line}`);
    labels[m[1]] = m[2].replace(/\\(["\\n])/g, (_s, c: string) => (c === "n" ? "\n" : c));
    rest = rest.slice(m[0].length);
  }
  return labels;
}

function familyOf(sampleName: string, families: Map<string, ParsedFamily>): ParsedFamily | undefined {
  const direct = families.get(sampleName);
  if (direct) return direct;
  for (const suffix of ["_bucket", "_sum", "_count"]) {
    if (sampleName.endsWith(suffix)) {
      const family = families.get(sampleName.slice(0, -suffix.length));
      if (family?.type === "histogram") return family;
    }
  }
  return undefined;
}

/** Parses and validates an exposition; throws with the offending line. */
export function parsePrometheus(text: string): Map<string, ParsedFamily> {
  const families = new Map<string, ParsedFamily>();
  if (text.length > 0 && !text.endsWith("\n")) throw new Error("exposition must end with a newline");
  const pendingHelp = new Map<string, string>();
  for (const line of text.split("\n").slice(0, -1)) {
    if (line.startsWith("# HELP ")) {
      const [name, ...help] = line.slice(7).split(" ");
      pendingHelp.set(name, help.join(" "));
      continue;
    }
    if (line.startsWith("# TYPE ")) {
      const [name, type] = line.slice(7).split(" ");
      if (!["counter", "gauge", "histogram", "summary", "untyped"].includes(type)) throw new Error(`bad type: ${line}`);
      if (families.has(name)) throw new Error(`family ${name} declared twice`);
      if (!pendingHelp.has(name)) throw new Error(`TYPE without HELP first: ${line}`);
      families.set(name, { name, help: pendingHelp.get(name) ?? "", type, samples: [] });
      continue;
    }
    if (line.startsWith("#") || line === "") throw new Error(`unexpected line: ${JSON.stringify(line)}`);
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`bad sample line: ${line}`);
    const family = familyOf(m[1], families);
    if (!family) throw new Error(`sample before its HELP/TYPE: ${line}`);
    family.samples.push({ name: m[1], labels: parseLabels(m[3] ?? "", line), value: parseValue(m[4], line) });
  }
  for (const family of families.values()) {
    if (family.type === "counter" && !family.name.endsWith("_total")) throw new Error(`counter ${family.name} lacks _total`);
    if (family.type === "histogram") checkHistogram(family);
  }
  return families;
}

function checkHistogram(family: ParsedFamily): void {
  const series = new Map<string, ParsedSample[]>();
  const keyOf = (labels: Readonly<Record<string, string>>) =>
    JSON.stringify(Object.entries(labels).filter(([k]) => k !== "le").sort());
  for (const s of family.samples) {
    const key = keyOf(s.labels);
    if (!series.has(key)) series.set(key, []);
    series.get(key)?.push(s);
  }
  for (const samples of series.values()) {
    const buckets = samples.filter((s) => s.name === `${family.name}_bucket`);
    const count = samples.find((s) => s.name === `${family.name}_count`);
    if (!count || !samples.some((s) => s.name === `${family.name}_sum`)) throw new Error(`${family.name}: missing _sum/_count`);
    let previousLe = Number.NEGATIVE_INFINITY;
    let previous = 0;
    for (const bucket of buckets) {
      const le = parseValue(bucket.labels.le ?? "", "le");
      if (le <= previousLe) throw new Error(`${family.name}: le not increasing`);
      if (bucket.value < previous) throw new Error(`${family.name}: buckets not cumulative`);
      previousLe = le;
      previous = bucket.value;
    }
    const inf = buckets.at(-1);
    if (inf?.labels.le !== "+Inf") throw new Error(`${family.name}: last bucket is not +Inf`);
    if (inf.value !== count.value) throw new Error(`${family.name}: +Inf bucket ${inf.value} != count ${count.value}`);
  }
}

/** The value of the sample `name` whose labels include `labels`, or undefined. */
export function sampleValue(
  families: Map<string, ParsedFamily>,
  name: string,
  labels: Readonly<Record<string, string>> = {},
): number | undefined {
  for (const family of families.values()) {
    for (const s of family.samples) {
      if (s.name !== name) continue;
      if (Object.entries(labels).every(([k, v]) => s.labels[k] === v)) return s.value;
    }
  }
  return undefined;
}
