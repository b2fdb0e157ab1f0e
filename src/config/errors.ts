/**
 * The config domain's error: every problem found in one load, each named by where it came from.
 * @module
 */

/** One problem with the configuration, named by its source. */
export interface ConfigIssue {
  /** Where: a file key path (`limits[2].rate`), a flag (`--rate-burst`) or an env var (`env SPOA_RATE_BURST`). */
  readonly path: string;
  /** What is wrong, e.g. `expected "<count>/<unit>", got "100 per s"`. */
  readonly message: string;
  /** How to fix it, when there is an obvious fix. */
  readonly fix?: string;
}

/** Formats one issue as a single line: `path: message (fix)`. */
export function formatIssue(issue: ConfigIssue): string {
  return issue.fix === undefined
    ? `${issue.path}: ${issue.message}`
    : `${issue.path}: ${issue.message} — ${issue.fix}`;
}

/**
 * One issue as a line, a file key's path preceded by the config file it is in
 * (`/etc/spoa/policy.yaml: limits[2].rate: …`); flags, env vars and the file's own problems as they are.
 */
export function formatIssueIn(issue: ConfigIssue, file: string | undefined): string {
  const fileKey = file !== undefined && !issue.path.startsWith(file) && !issue.path.startsWith("--") && !issue.path.startsWith("env ") && !issue.path.startsWith("(");
  return formatIssue(fileKey ? { ...issue, path: `${file}: ${issue.path}` } : issue);
}

/** The configuration is invalid; `issues` lists every problem, not only the first. */
export class ConfigError extends Error {
  /** Every problem found, in the order found. */
  readonly issues: readonly ConfigIssue[];
  /** The config file the file-key paths (`limits[2].rate`) are in, when one was read. */
  readonly file?: string;

  constructor(issues: readonly ConfigIssue[], options?: { readonly cause?: unknown; readonly file?: string }) {
    const count = issues.length === 1 ? "1 problem" : `${issues.length} problems`;
    super(`Invalid configuration (${count}):\n${issues.map((i) => `  ${formatIssueIn(i, options?.file)}`).join("\n")}`, options);
    this.name = "ConfigError";
    this.issues = issues;
    if (options?.file !== undefined) this.file = options.file;
  }
}

/** Collects issues while a load walks every source, so one run reports them all. */
export interface IssueSink {
  add(path: string, message: string, fix?: string): void;
  readonly issues: readonly ConfigIssue[];
}

/** A fresh issue collector. */
export function issueSink(): IssueSink {
  const issues: ConfigIssue[] = [];
  return {
    issues,
    add(path, message, fix) {
      issues.push(fix === undefined ? { path, message } : { path, message, fix });
    },
  };
}

/** Shows a received value the way the messages quote it: strings in quotes, others as JSON. */
export function shown(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (value === undefined) return "nothing";
  try {
    const text = JSON.stringify(value);
    return text.length > 60 ? `${text.slice(0, 57)}...` : text;
  } catch {
    return String(value);
  }
}
