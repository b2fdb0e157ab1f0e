/**
 * Prometheus text exposition format 0.0.4: escaping and line layout, nothing else.
 * @module
 */

/** One sample line: name, label pairs in order, value. */
export interface Sample {
  readonly name: string;
  readonly labels: readonly (readonly [string, string])[];
  readonly value: number;
}

/** The content type a scraper expects for this format. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** A float as Prometheus writes it: `+Inf`, `-Inf`, `NaN`, otherwise JavaScript's shortest form. */
export function formatValue(value: number): string {
  if (value === Number.POSITIVE_INFINITY) return "+Inf";
  if (value === Number.NEGATIVE_INFINITY) return "-Inf";
  return String(value);
}

/** Label values escape backslash, double quote and newline (format 0.0.4). */
export function escapeLabelValue(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => (c === "\n" ? "\\n" : `\\${c}`));
}

/** HELP text escapes backslash and newline only. */
export function escapeHelp(text: string): string {
  return text.replace(/[\\\n]/g, (c) => (c === "\n" ? "\\n" : "\\\\"));
}

/** `# HELP`, `# TYPE`, then the samples, each line ending in a newline. */
export function renderFamily(family: {
  readonly name: string;
  readonly help: string;
  readonly type: "counter" | "gauge" | "histogram";
  readonly samples: readonly Sample[];
}): string {
  let text = `# HELP ${family.name} ${escapeHelp(family.help)}\n# TYPE ${family.name} ${family.type}\n`;
  for (const sample of family.samples) {
    text += sample.name;
    if (sample.labels.length > 0) {
      text += "{";
      for (let i = 0; i < sample.labels.length; i++) {
        const [name, value] = sample.labels[i];
        text += `${i === 0 ? "" : ","}${name}="${escapeLabelValue(value)}"`;
      }
      text += "}";
    }
    text += ` ${formatValue(sample.value)}\n`;
  }
  return text;
}
