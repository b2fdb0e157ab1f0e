/**
 * The help text, generated from the config field table so every flag, env var and default shown
 * is the one the parser accepts. It never reads the environment, so it cannot print a secret.
 * @module
 */
import { defaultText, flagText } from "../config/describe.ts";
import { FIELDS, type FieldSpec, SECTIONS } from "../config/fields.ts";
import { CLI_FLAGS, type Command, COMMANDS, type HelpTopic } from "./args.ts";
import { configHelpText } from "./help-config.ts";
import { wrap } from "./wrap.ts";

const NAME = "spoa-gcra";

function fieldLines(spec: FieldSpec): string[] {
  const head = spec.flag === undefined ? `  ${(spec.env ?? []).join(", ")} (environment only)` : `  ${flagText(spec.flag, spec.kind)}`;
  const where = [
    ...(spec.env ?? []).map((e) => `env ${e}`),
    ...(spec.inFile ? [`file ${spec.key}`] : []),
    ...(defaultText(spec.default) === undefined ? [] : [`default ${defaultText(spec.default)}`]),
  ].join(" · ");
  return [head, ...wrap(spec.description, 6), ...wrap(where, 6)];
}

function flagsSection(): string[] {
  const lines: string[] = [];
  for (const [section, title] of Object.entries(SECTIONS)) {
    const specs = FIELDS.filter((f) => f.section === section && (f.flag !== undefined || f.env !== undefined));
    if (specs.length === 0) continue;
    lines.push("", `${title.replace(/`/g, "")}:`);
    for (const spec of specs) lines.push(...fieldLines(spec));
  }
  lines.push("", "Command flags:");
  for (const flag of CLI_FLAGS) {
    lines.push(`  --${flag.flag}${flag.value === undefined ? "" : ` ${flag.value}`}${flag.short === undefined ? "" : `, -${flag.short}`}`, ...wrap(flag.description, 6));
  }
  return lines;
}

const INTRO = [
  `${NAME} — an HAProxy SPOE agent that rate-limits requests with GCRA.`,
  "",
  "HAProxy sends the agent one SPOE message per request (by default \"check-rate\", carrying the",
  "client address); the agent answers with variables such as txn.rl.allowed and txn.rl.retry_after",
  "that HAProxy uses to deny with 429. State lives in memory, or in Valkey (--valkey-url) so that",
  "every HAProxy replica shares the same limits.",
];

const EXAMPLES = [
  "Examples:",
  "  bun run src/cli/main.ts serve --listen 127.0.0.1:12345",
  "  deno run --allow-net --allow-read --allow-env --allow-sys --allow-run --unstable-net src/cli/main.ts serve --config policy.yaml",
  `  ./${NAME} check-config --config policy.yaml`,
  `  ./${NAME} --valkey-url redis://valkey:6379 --rate-interval 10000 --rate-burst 200000`,
  `  SPOA_RATE_INTERVAL=10000 SPOA_RATE_BURST=200000 VALKEY_URL=redis://valkey:6379 ./${NAME}`,
];

const PER_COMMAND: Readonly<Record<Exclude<Command, "serve">, readonly string[]>> = {
  "check-config": [
    `Usage: ${NAME} check-config [--config FILE] [--probe] [--haproxy haproxy.cfg [--spoe spoe.conf] [--haproxy-version X.Y]] [flags]`,
    "",
    "Loads the configuration exactly as serve would (flags > env > file > defaults), prints a",
    "summary of the limits and exits 0, or lists every problem with where it came from and exits 2.",
    "With --probe it also connects to the configured Valkey, PINGs it and runs the GCRA script once",
    "on a throwaway key (deleted afterwards), prints the timings, and exits 1 when Valkey does not answer.",
    "With --haproxy it also reads your haproxy.cfg and SPOE config and checks them against the policy:",
    "messages and events, the arguments each limit reads, the variables the rules read against those",
    "the agent sets, the 429 rule, var-prefix, timeout processing against the Valkey deadline, pipelining",
    "and the agent backend's mode and checks; each finding names file, line and fix (exit 2 on an error).",
    `Accepts every serve flag (see \`${NAME} help\`).`,
  ],
  inspect: [
    `Usage: ${NAME} inspect [flags] NAME=VALUE...`,
    "",
    "Describes a request by its SPOE message arguments and shows, read from Valkey without consuming",
    "anything, which limits match, their keys and each key's state (TAT, remaining, reset, and the",
    "retry-after if this request would be denied), as JSON. Words: ip=ADDR (the source address),",
    "message=NAME, limit=NAME (only that limit), arg.NAME=VALUE or NAME=VALUE for any argument",
    `(path, method, host, api_key, ip_xff, ...). Reads the same config as serve. With the in-memory store`,
    "only the running agent's admin endpoint can answer; the command prints the curl for it.",
    "Keys are computed from the limits' names and rates: run it with the agents' config (their",
    "--config file or SPOA_RATE_* values). The word `keys` lists every key the client has in Valkey,",
    "whatever limit or rate wrote it (a reset takes such a key as it is).",
    `Example: ${NAME} inspect --config policy.yaml ip=203.0.113.7 path=/login method=POST`,
    `Example: ${NAME} inspect ip=203.0.113.7 keys`,
  ],
  reset: [
    `Usage: ${NAME} reset [flags] NAME=VALUE... | KEY...`,
    "",
    "Deletes the Valkey keys of every limit the described request matches (words as for inspect;",
    "limit=NAME narrows it to one limit), or the store keys given, and prints what it removed.",
    "The reset is announced on the Valkey channel <keyPrefix>resets, so running agents drop their",
    "cached denials of these keys too.",
    `Example: ${NAME} reset --config policy.yaml ip=203.0.113.7 limit=login`,
  ],
  top: [
    `Usage: ${NAME} top [flags] [LIMIT]`,
    "",
    "Who is being limited, across every agent: per limit (or only LIMIT), the identities denied most",
    "and the heaviest ones (the cost they spent or tried to spend) over the last one to two minutes,",
    "as JSON. Each entry has count (an upper bound) and error (count − error ≤ true ≤ count). The agents",
    "publish their lists to Valkey every 5 s; with the in-memory store the command prints the curl for",
    "the running agent's GET /admin/top.",
    `Example: ${NAME} top --config policy.yaml login`,
  ],
  help: [`Usage: ${NAME} help [command | config]`, "", "Shows the help for the agent, one command, or the config file (help config)."],
  version: [`Usage: ${NAME} version`, "", "Prints the version and exits."],
};

/** The help for the agent (all flags), one command, or the config file (`help config`). */
export function helpText(topic?: HelpTopic): string {
  if (topic === "config") return configHelpText();
  if (topic !== undefined && topic !== "serve") return `${PER_COMMAND[topic].join("\n")}\n`;
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    ...INTRO,
    "",
    "Usage:",
    `  ${NAME} [serve] [flags]`,
    `  ${NAME} check-config [flags]`,
    `  ${NAME} inspect|reset [flags] NAME=VALUE...`,
    `  ${NAME} top [flags] [LIMIT]`,
    `  ${NAME} help [command] | version`,
    "",
    "Commands:",
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    "",
    "Settings come from, strongest first: flags > environment variables > config file > defaults.",
    "Secrets (the Valkey password) come only from the environment or files, never from flags.",
    `The config file also takes the limits[] list and the file-only keys: \`${NAME} help config\`.`,
    ...flagsSection(),
    "",
    ...EXAMPLES,
    "",
  ].join("\n");
}
