/**
 * A problem found in the operator's HAProxy or SPOE file: where, how bad, what, and the fix.
 * @module
 */

/** One finding, printed as `file:line: error: message — fix`. */
export interface HaproxyFinding {
  readonly file: string;
  readonly line: number;
  /** `error`: the rate limit does not work as configured; `warning`: it works, worse than it could. */
  readonly severity: "error" | "warning";
  readonly message: string;
  readonly fix: string;
}

/** Collects findings for one file. */
export interface FindingSink {
  error(line: number, message: string, fix: string): void;
  warning(line: number, message: string, fix: string): void;
}

/** A sink that appends to `out`, naming `file`. */
export function findingSink(file: string, out: HaproxyFinding[]): FindingSink {
  return {
    error: (line, message, fix) => out.push({ file, line, severity: "error", message, fix }),
    warning: (line, message, fix) => out.push({ file, line, severity: "warning", message, fix }),
  };
}

/** One line per finding. */
export function formatFinding(f: HaproxyFinding): string {
  return `${f.file}:${f.line}: ${f.severity}: ${f.message} — ${f.fix}`;
}
