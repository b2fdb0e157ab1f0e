/**
 * Command-line parsing: `node:util` parseArgs in strict mode, kept behind this one module so
 * swapping in another parser is a one-file change. Flags come from the config field table.
 * @module
 */
import { parseArgs } from "node:util";
import { FIELDS } from "../config/fields.ts";
import { closest } from "../config/suggest.ts";

/** What the agent was asked to do. */
export type Command = "serve" | "check-config" | "inspect" | "reset" | "top" | "help" | "version";

/** What `help` can explain: a command, or `config` (the config file reference). */
export type HelpTopic = Command | "config";

/** Help topics that are not commands. */
export const EXTRA_HELP_TOPICS: readonly HelpTopic[] = ["config"];

/** The command line, parsed: kebab-case flag names (without dashes) → values. */
export interface ParsedArgs {
  readonly command: Command;
  readonly flags: Readonly<Record<string, string | boolean | undefined>>;
  /** For `help`, the command asked about (`help check-config`); otherwise empty. */
  readonly positionals: readonly string[];
}

/** The command line is malformed; the CLI prints the message and exits 2. */
export class UsageError extends Error {
  constructor(message: string, options?: { readonly cause?: unknown }) {
    super(message, options);
    this.name = "UsageError";
  }
}

/** The commands with a one-line description each, in help order. */
export const COMMANDS: readonly { readonly name: Command; readonly summary: string }[] = [
  { name: "serve", summary: "run the agent (the default when no command is given)" },
  { name: "check-config", summary: "validate the configuration, print a summary of the limits, exit 0 or 2" },
  { name: "inspect", summary: "show which limits a request matches and their state in Valkey (NAME=VALUE words)" },
  { name: "reset", summary: "delete a client's limit keys in Valkey (NAME=VALUE words or store keys)" },
  { name: "top", summary: "who is being limited: per limit, the most denied and the heaviest identities of all agents" },
  { name: "help", summary: "show this help, `help <command>`, or `help config` for the config file reference" },
  { name: "version", summary: "print the version" },
];

/** Flags that steer the CLI rather than configure the agent. */
export const CLI_FLAGS: readonly { readonly flag: string; readonly short?: string; readonly value?: string; readonly description: string }[] = [
  { flag: "validate", description: "serve: validate the configuration, then exit 0 (valid) or 2 (invalid) without serving" },
  { flag: "probe", description: "check-config: also connect to the configured Valkey, PING it and run the GCRA script once on a throwaway key; exit 1 when it does not answer" },
  { flag: "haproxy", value: "FILE", description: "check-config: also check this haproxy.cfg (and the SPOE config its `filter spoe` line names) against the agent's configuration: messages, events, arguments, variables, the 429 rule, var-prefix, timeout processing, the agent backend" },
  { flag: "spoe", value: "FILE", description: "check-config --haproxy: the SPOE config to check, instead of the path in the `filter spoe` line" },
  { flag: "haproxy-version", value: "X.Y", description: "check-config --haproxy: the HAProxy version that loads the files (e.g. 2.6 or 3.2); without it, what loads on every version" },
  { flag: "help", short: "h", description: "show help" },
  { flag: "version", description: "print the version" },
];

type Options = Record<string, { type: "string" | "boolean"; short?: string }>;
const OPTIONS: Options = Object.fromEntries([
  // A bool field's flag is a switch (`--admin`); every other flag takes a value.
  ...FIELDS.filter((f) => f.flag !== undefined).map((f) => [f.flag as string, { type: f.kind.type === "bool" ? "boolean" as const : "string" as const }]),
  ...CLI_FLAGS.map((f) => [f.flag, { type: f.value === undefined ? "boolean" as const : "string" as const, ...(f.short === undefined ? {} : { short: f.short }) }]),
]);
const FLAG_NAMES = Object.keys(OPTIONS).map((name) => `--${name}`);

function usageError(error: unknown): UsageError {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown }).code;
  const flag = /'(-[^' ]+)/.exec(message)?.[1];
  if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" && flag !== undefined) {
    const guess = closest(flag.replace(/^-+/, ""), Object.keys(OPTIONS));
    const hint = guess === undefined ? "see --help for the flags" : `did you mean --${guess}?`;
    return new UsageError(`unknown flag ${flag} (${hint})`, { cause: error });
  }
  if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE" && flag !== undefined) {
    const name = flag.replace(/^-+/, "");
    return OPTIONS[name]?.type === "boolean"
      ? new UsageError(`flag ${flag} takes no value`, { cause: error })
      : new UsageError(`flag ${flag} needs a value (write ${flag}=VALUE when the value starts with "-")`, { cause: error });
  }
  return new UsageError(message.split("\n")[0], { cause: error });
}

function commandOf(positionals: readonly string[]): Command {
  const first = positionals[0];
  if (first === undefined) return "serve";
  const known = COMMANDS.find((c) => c.name === first);
  if (known !== undefined) return known.name;
  const guess = closest(first, COMMANDS.map((c) => c.name));
  throw new UsageError(`unknown command "${first}" (${guess === undefined ? `commands: ${COMMANDS.map((c) => c.name).join(", ")}` : `did you mean ${guess}?`})`);
}

/** Parses argv (without the runtime and script); throws UsageError naming the offending flag. */
export function parseCliArgs(argv: readonly string[]): ParsedArgs {
  let parsed: { values: Record<string, string | boolean | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, strict: true, allowPositionals: true }) as typeof parsed;
  } catch (error) {
    throw usageError(error);
  }
  const flags: Record<string, string | boolean | undefined> = { ...parsed.values };
  const command = commandOf(parsed.positionals);
  const rest = parsed.positionals.slice(1);
  if (command === "help" || flags.help === true) {
    const topic = command === "help" ? rest[0] : command === "serve" && parsed.positionals.length === 0 ? undefined : command;
    if (topic !== undefined && !isHelpTopic(topic)) {
      throw new UsageError(`unknown help topic "${topic}" (topics: ${[...COMMANDS.map((c) => c.name), ...EXTRA_HELP_TOPICS].join(", ")})`);
    }
    return { command: "help", flags, positionals: topic === undefined ? [] : [topic] };
  }
  if (flags.version === true) return { command: "version", flags, positionals: [] };
  // `check-config FILE` reads as naturally as `check-config --config FILE`; both are accepted.
  if (command === "check-config" && rest.length === 1 && flags.config === undefined) {
    return { command, flags: { ...flags, config: rest[0] }, positionals: [] };
  }
  // inspect/reset describe a request in NAME=VALUE words (or, for reset, name store keys).
  if (command === "inspect" || command === "reset") return { command, flags, positionals: rest };
  // top takes one optional limit name.
  if (command === "top" && rest.length <= 1) return { command, flags, positionals: rest };
  if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}" (flags start with --; see --help)`);
  return { command, flags, positionals: [] };
}

/** True for the words `help` takes after it. */
export function isHelpTopic(word: string): word is HelpTopic {
  return COMMANDS.some((c) => c.name === word) || (EXTRA_HELP_TOPICS as readonly string[]).includes(word);
}

/** Every long flag the parser accepts, with dashes (for help and docs). */
export function knownFlags(): readonly string[] {
  return FLAG_NAMES;
}
