/**
 * Loads the configuration: flags > env > file > defaults, every value validated, every problem
 * reported at once in one ConfigError.
 * @module
 */
import { parseDocument } from "yaml";
import { ConfigError, type IssueSink, issueSink } from "./errors.ts";
import { defaultLimit, parseLimits } from "./limits.ts";
import type { AgentConfig, LogLevel } from "./schema.ts";
import { resolve } from "./resolved.ts";
import { envLayer, fileLayer, flagLayer } from "./sources.ts";
import { valkeyOptions } from "./valkey.ts";
import { adminOptions } from "./admin.ts";
import { ticketSecretOf } from "./ticket-secret.ts";
import { variableProblems } from "./variables.ts";

/** The parts of the parsed command line the loader reads (cli's ParsedArgs fits). */
export interface ConfigArgs {
  readonly flags: Readonly<Record<string, string | boolean | undefined>>;
}

/** What loadConfig reads; host access is injected so the loader stays testable. */
export interface LoadInput {
  readonly args: ConfigArgs;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly readFile: (path: string) => string;
}

/**
 * The yaml library's first message line without its "at line N, column M:" tail (the issue's
 * path already says where), followed by the offending line itself.
 */
function yamlProblem(message: string, text: string, line: number | undefined): string {
  const what = message.split("\n")[0].replace(/ at line \d+, column \d+:?\s*$/, "").replace(/:\s*$/, "");
  const source = line === undefined ? undefined : text.split("\n")[line - 1];
  if (source === undefined || source.trim() === "") return what;
  // A line is quoted to show where; a minified or generated file's line can be kilobytes.
  return `${what}, in line ${line}: ${JSON.stringify(source.length > LINE_SHOWN ? `${source.slice(0, LINE_SHOWN)}…` : source)}`;
}

const LINE_SHOWN = 120;
/** YAML problems listed per file; a file that is not YAML at all would list hundreds. */
const YAML_PROBLEMS_SHOWN = 5;

/** Why `text` is not a config file at all (a binary, a NUL byte), or undefined. */
function notTextProblem(text: string): string | undefined {
  if (text.includes("\u0000")) return "is not a text file (it contains NUL bytes); expected a YAML or JSON config file";
  return text.includes("\uFFFD") ? "is not UTF-8 text (it holds bytes that decode to nothing); expected a YAML or JSON config file" : undefined;
}

/** Parses config file text: JSON when the name ends in `.json`, YAML otherwise. Throws ConfigError naming the line. */
export function parseConfigText(text: string, fileName: string): unknown {
  const notText = notTextProblem(text);
  if (notText !== undefined) throw new ConfigError([{ path: fileName, message: notText, fix: "pass the policy file (--config FILE or CONFIG_FILE)" }]);
  if (fileName.endsWith(".json")) {
    try {
      return JSON.parse(text);
    } catch (error) {
      throw new ConfigError([{ path: fileName, message: `invalid JSON: ${(error as Error).message}` }], { cause: error });
    }
  }
  const document = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (document.errors.length > 0) {
    const issues = document.errors.slice(0, YAML_PROBLEMS_SHOWN).map((error) => {
      const at = error.linePos?.[0];
      return { path: at === undefined ? fileName : `${fileName}:${at.line}:${at.col}`, message: `invalid YAML: ${yamlProblem(error.message, text, at?.line)}` };
    });
    const more = document.errors.length - issues.length;
    if (more > 0) issues.push({ path: fileName, message: `and ${more} more YAML problem${more === 1 ? "" : "s"} (is it the policy file?)` });
    throw new ConfigError(issues, { cause: document.errors[0] });
  }
  return document.toJS({ maxAliasCount: 100 });
}

function readDocument(input: LoadInput, sink: IssueSink): { readonly file?: string; readonly document?: unknown } {
  const flag = input.args.flags.config;
  const label = typeof flag === "string" ? "--config" : "env CONFIG_FILE";
  const file = typeof flag === "string" ? flag : input.env.CONFIG_FILE?.trim() || undefined;
  if (file === undefined) return {};
  let text: string;
  try {
    text = input.readFile(file);
  } catch (error) {
    sink.add(label, `cannot read config file "${file}": ${(error as Error).message}`);
    return { file };
  }
  try {
    return { file, document: parseConfigText(text, file) };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const issue of error.issues) sink.add(issue.path, issue.message, issue.fix);
    return { file };
  }
}

/** No settings at all: an empty or comment-only YAML file, `{}` or `null`. */
function isEmptyDocument(document: unknown): boolean {
  return document === null || document === undefined || (typeof document === "object" && !Array.isArray(document) && Object.keys(document).length === 0);
}

/** Loads and validates the whole configuration; throws ConfigError listing every problem. */
export function loadConfig(input: LoadInput): AgentConfig {
  const sink = issueSink();
  const { file, document } = readDocument(input, sink);
  const fromFile = fileLayer(document, sink);
  const r = resolve([fromFile.values, envLayer(input.env), flagLayer(input.args.flags)], sink);

  const varPrefix = r.get<string>("haproxy.varPrefix");
  for (const problem of variableProblems(varPrefix)) {
    sink.add(r.labelOf("haproxy.varPrefix") ?? "haproxy.varPrefix", problem, "use a shorter haproxy.varPrefix (it must match the SPOE `option var-prefix`)");
  }
  const initialBackoffMs = r.get<number>("store.breaker.initialBackoffMs");
  const maxBackoffMs = r.get<number>("store.breaker.maxBackoffMs");
  if (maxBackoffMs < initialBackoffMs) {
    sink.add(r.labelOf("store.breaker.maxBackoffMs") ?? "store.breaker.maxBackoffMs", `${maxBackoffMs} is less than store.breaker.initialBackoffMs ${initialBackoffMs}`);
  }
  const workers = r.get<number>("workers");
  if (workers > 1 && r.get<string>("listen").startsWith("unix:")) {
    // serve's workers share one port with SO_REUSEPORT; a unix socket file has one owner.
    sink.add(r.labelOf("workers") ?? "workers", `${workers} workers cannot share the unix socket ${r.get<string>("listen")}: each would replace the others' socket file`, "use one worker on a unix socket, or a TCP listen address (127.0.0.1:12345) for several");
  }
  const messages = r.get<readonly string[]>("haproxy.messages");
  const limits = fromFile.limits === undefined
    ? [defaultLimit({ intervalUs: r.get<number>("defaultLimit.intervalUs"), burstUs: r.get<number>("defaultLimit.burstUs"), messages })]
    : parseLimits(fromFile.limits, { messages, sink });
  const keyPrefix = r.get<string>("store.keyPrefix");
  const valkey = valkeyOptions(r, { keyPrefix, readFile: input.readFile, sink });
  const admin = adminOptions(r, { readFile: input.readFile, sink });
  const ticketSecret = ticketSecretOf(r, { readFile: input.readFile, sink });

  if (sink.issues.length > 0) throw new ConfigError(sink.issues, file === undefined ? {} : { file });
  return {
    listen: r.get("listen"),
    ...(r.getOptional("socketMode") === undefined ? {} : { socketMode: r.get<number>("socketMode") }),
    metrics: r.get("metrics"),
    workers,
    memoryLimitPercent: r.get("memoryLimitPercent"),
    allowedPeers: r.get("allowedPeers"),
    logLevel: r.get<LogLevel>("logLevel"),
    haproxy: {
      varPrefix,
      maxFrameSize: r.get("haproxy.maxFrameSize"),
      helloTimeoutMs: r.get("haproxy.helloTimeoutMs"),
      maxInFlight: r.get("haproxy.maxInFlight"),
      messages,
      variables: r.get<readonly string[]>("haproxy.variables"),
      ...(ticketSecret === undefined ? {} : { ticketSecret }),
    },
    shutdownGraceMs: r.get("shutdownGraceMs"),
    identity: {
      trustedProxies: r.get("identity.trustedProxies"),
      ipv6PrefixLength: r.get("identity.ipv6PrefixLength"),
      forwardedArg: r.get("identity.args.forwarded"),
      xffArg: r.get("identity.args.xff"),
      sourceArg: r.get("identity.args.source"),
    },
    store: {
      kind: valkey === undefined ? "memory" : "valkey",
      keyPrefix,
      memory: { maxKeys: r.get("store.memory.maxKeys"), maxKeysSet: r.rankOf("store.memory.maxKeys") > 0 },
      failurePolicy: r.get<"local" | "allow" | "deny">("store.failurePolicy"),
      ...(valkey === undefined ? {} : { valkey }),
      breaker: { failureThreshold: r.get("store.breaker.failureThreshold"), initialBackoffMs, maxBackoffMs },
      denyCacheMaxKeys: r.get("store.denyCacheMaxKeys"),
    },
    onAgentError: r.get<"allow" | "deny">("onAgentError"),
    limits,
    keyTtlSeconds: r.get("keyTtlSeconds"),
    admin,
    source: file === undefined ? {} : { file, ...(isEmptyDocument(document) ? { empty: true } : {}) },
  };
}
