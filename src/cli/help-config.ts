/**
 * `spoa-gcra help config`: the config file reference on a terminal, generated from the same
 * field tables as docs/configuration.md so both always say what the loader accepts.
 * @module
 */
import { defaultText, flagText } from "../config/describe.ts";
import { FIELDS, type FieldSpec } from "../config/fields.ts";
import { LIMIT_FIELDS } from "../config/limits.ts";
import { CONFIG_EXAMPLE_YAML } from "../config/reference.ts";
import { LLM_GATEWAY_YAML } from "../config/response-reference.ts";
import { kindText } from "../config/values.ts";
import { wrap } from "./wrap.ts";

const NAME = "spoa-gcra";

const INTRO = [
  `Usage: ${NAME} --config FILE   (or CONFIG_FILE=FILE; validate it with: ${NAME} check-config FILE)`,
  "",
  ...wrap(
    "The config file is YAML (JSON is YAML too) with camelCase keys; every key is optional. Flags and " +
      "environment variables override the file (flags > env > file > defaults). Unknown keys are errors " +
      "with a \"did you mean\" hint. The file is watched and reloaded on change and on SIGHUP; a bad file " +
      "keeps the running config, and fields that need a restart keep their running value. Secrets never " +
      "go in the file: the Valkey password comes from VALKEY_PASSWORD or store.valkey.passwordFile.",
    0,
  ),
];

function settingLines(spec: FieldSpec): string[] {
  const where = [
    ...(defaultText(spec.default) === undefined ? [] : [`default ${defaultText(spec.default)}`]),
    ...(spec.flag === undefined ? [] : [flagText(spec.flag, spec.kind)]),
    ...(spec.env ?? []).map((e) => `env ${e}`),
  ].join(" · ");
  return [`  ${spec.key} (${kindText(spec.kind)})`, ...wrap(spec.description, 6), ...(where === "" ? [] : wrap(where, 6))];
}

const MATCHING = [
  "A limit applies to a request when every `match` condition holds. A condition names a message",
  "argument (as sent by the spoe-message `args`, e.g. path, method, host, api_key) and one matcher:",
  "exact, prefix, regex (JavaScript syntax), in (a list) or cidr (a list, for addresses).",
  "The shipped SPOE config sends api_key as `req.hdr(x-api-key),sha2(256),hex`: HAProxy's hex",
  "converter writes UPPER-case hex, so match it with \"^[0-9A-F]{64}$\" (check-config warns when a",
  "regex on api_key only accepts lower case).",
];

/** The config file reference: every file key, the limit keys, matchers and an example. */
export function configHelpText(): string {
  return [
    ...INTRO,
    "",
    "Settings (file key (type), then its default, flag and environment variable):",
    ...FIELDS.filter((f) => f.inFile).flatMap(settingLines),
    "",
    "limits: a list; when absent the agent runs one limit, `default`, from defaultLimit.* (the seed's",
    "SPOA_RATE_INTERVAL / SPOA_RATE_BURST). Each entry takes:",
    ...LIMIT_FIELDS.flatMap((f) => [`    ${f.key} (${f.type.replace(/`/g, "")}; default ${f.default.replace(/`/g, "")})`, ...wrap(f.description, 8)]),
    "",
    ...MATCHING.map((line) => line.replace(/`/g, "")),
    "",
    "Example:",
    ...CONFIG_EXAMPLE_YAML.trimEnd().split("\n").map((line) => `  ${line}`),
    "",
    ...wrap(
      "Limits that see the response (cost: {response: tokens}, concurrency): the LLM gateway, 100,000 tokens a minute and " +
        "10 requests in flight per API key, 1,000 tokens a minute per address for anonymous clients. Needs the shipped " +
        "check-response message (event on-http-response) and the same SPOA_TICKET_SECRET on every agent:",
      0,
    ),
    ...LLM_GATEWAY_YAML.trimEnd().split("\n").map((line) => `  ${line}`),
    "",
    "The same reference with tables: docs/configuration.md; a commented policy: deploy/policy.example.yaml.",
    "",
  ].join("\n");
}
