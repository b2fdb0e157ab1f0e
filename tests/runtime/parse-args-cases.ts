// node:util parseArgs cases run under Bun (in-process) and Deno (deno-probe.ts); the results must
// match (engineering-notes §4.5). Runtime-neutral so both can import it.
import { parseArgs } from "node:util";

const OPTIONS = {
  port: { type: "string", short: "p" },
  verbose: { type: "boolean", short: "v" },
  tag: { type: "string", multiple: true },
} as const;

/** Argument vectors covering strict mode's errors, negation, `=` values and `--`. */
export const CASES: readonly (readonly string[])[] = [
  ["serve", "--port", "12345", "-v"],
  ["--port=8080", "--tag", "a", "--tag=b", "--", "--not-an-option"],
  ["--no-verbose"],
  ["--verbose", "--no-verbose"],
  ["--unknown"],
  ["--port"],
  ["--verbose=yes"],
  ["-p", "-1"],
  ["-vp", "9"],
];

/** Each case's parse result, or its error code, as JSON-safe data. */
export function runCases(): unknown[] {
  return CASES.map((args) => {
    try {
      const { values, positionals } = parseArgs({
        args: [...args],
        options: OPTIONS,
        strict: true,
        allowPositionals: true,
        allowNegative: true,
      });
      return { values: { ...values }, positionals };
    } catch (error) {
      return { error: (error as { code?: string }).code ?? String(error) };
    }
  });
}
