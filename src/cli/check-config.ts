/**
 * `check-config`: load the configuration exactly as serve would, print what it means, exit 0 or 2;
 * with `--probe`, also try the configured Valkey (exit 1 when it does not answer).
 * @module
 */
import { probeValkey } from "../app/valkey-probe.ts";
import { ConfigError, formatIssueIn } from "../config/errors.ts";
import { type LoadInput, loadConfig } from "../config/load.ts";
import { configWarnings } from "../config/warnings.ts";
import { checkHaproxy } from "../config/haproxy/check.ts";
import { formatFinding } from "../config/haproxy/findings.ts";
import { formatRate } from "../ratelimit/rate.ts";
import type { AgentConfig } from "../config/schema.ts";
import type { ArgMatcher, KeyPart, LimitDefinition } from "../ratelimit/policy/types.ts";
import { AGENT_VARIABLES } from "../ratelimit/answer/variable-names.ts";
import type { ParsedArgs } from "./args.ts";

/** Host access for check-config; output goes through `stdout`/`stderr` so tests can capture it. */
export interface CheckConfigIo {
  readonly env: LoadInput["env"];
  readonly readFile: LoadInput["readFile"];
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

function keyText(part: KeyPart): string {
  switch (part.kind) {
    case "identity": return "identity";
    case "arg": return `arg:${part.arg}`;
    case "path-prefix": return `pathPrefix(${part.arg}, ${part.segments})`;
  }
}

/** A condition as the file states it: `path prefix "/login"`, `method in [POST]`. */
function matcherText(m: ArgMatcher): string {
  switch (m.kind) {
    case "exact": case "prefix": return `${m.arg} ${m.kind} ${JSON.stringify(m.value)}`;
    case "regex": return `${m.arg} regex /${m.pattern}/`;
    case "in": return `${m.arg} in [${m.values.join(", ")}]`;
    case "cidr": return `${m.arg} cidr [${m.cidrs.join(", ")}]`;
  }
}

/** The variables each ACK sets, with their full HAProxy names. */
function variablesText(config: AgentConfig): string {
  const prefix = config.haproxy.varPrefix;
  return AGENT_VARIABLES.filter((v) => config.haproxy.variables.includes(v.name)).map((v) => `${v.scope}.${prefix}.${v.name}`).join(", ");
}

function limitLine(limit: LimitDefinition): string {
  const { emissionIntervalUs: t, burstToleranceUs: tau } = limit.params;
  const c = limit.cost;
  const cost = c.kind === "constant"
    ? `${c.value}`
    : c.kind === "arg"
    ? `arg ${c.arg} (default ${c.default}, max ${c.max})`
    : `from the response's ${c.arg} (estimate ${c.estimate}, max ${c.max}; admitted while not in debt)`;
  const inFlight = limit.concurrency === undefined
    ? []
    : [`    at most ${limit.concurrency.max} in flight per key (lease ${limit.concurrency.leaseTtlSeconds} s, refused with ${limit.concurrency.denyStatus})`];
  const match = limit.match.length === 0 ? "every request" : limit.match.map(matcherText).join(" and ");
  return [
    `  ${limit.name}${limit.shadow ? " (shadow: reports, never denies)" : ""}`,
    `    rate ${formatRate(limit)} burst ${limit.burst} (T = ${t} µs, τ = ${tau} µs), cost ${cost}`,
    `    on ${limit.messages.join(", ")} when ${match}, keyed by ${limit.key.map(keyText).join(" + ")}`,
    ...inFlight,
  ].join("\n");
}

/** A human summary of a valid configuration. */
export function configSummary(config: AgentConfig): string {
  const store = config.store.valkey === undefined
    ? `memory (at most ${config.store.memory.maxKeys} keys)`
    : `valkey ${config.store.valkey.url !== undefined ? "standalone" : config.store.valkey.nodes !== undefined ? "cluster" : "sentinel"}, failure policy ${config.store.failurePolicy}`;
  return [
    `Configuration OK${config.source.file === undefined ? " (no config file)" : ` (${config.source.file})`}`,
    `  listen ${config.listen}, metrics ${config.metrics}, workers ${config.workers === 0 ? "auto" : config.workers}, log level ${config.logLevel}`,
    `  store ${store}`,
    `  messages ${config.haproxy.messages.join(", ")}`,
    `  sets ${variablesText(config)}`,
    `${config.limits.length} limit${config.limits.length === 1 ? "" : "s"}:`,
    ...config.limits.map(limitLine),
    "",
  ].join("\n");
}

/** Every problem of an invalid configuration, one per line, as check-config and serve print them. */
export function configErrorText(error: ConfigError): string {
  const count = error.issues.length === 1 ? "1 problem" : `${error.issues.length} problems`;
  return `Configuration invalid (${count}):\n${error.issues.map((i) => `  ${formatIssueIn(i, error.file)}`).join("\n")}\n`;
}

/** Runs check-config; returns the exit code: 0 valid (summary on stdout), 2 invalid (every problem on stderr). */
export function checkConfigCommand(args: ParsedArgs, io: CheckConfigIo): number {
  let config: AgentConfig;
  try {
    config = loadConfig({ args, env: io.env, readFile: io.readFile });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    io.stderr(configErrorText(error));
    return 2;
  }
  io.stdout(configSummary(config));
  const warnings = configWarnings(config, { spoeKnown: typeof args.flags.haproxy === "string" });
  if (warnings.length > 0) io.stderr(warnings.map((w) => `Warning: ${formatIssueIn(w, config.source.file)}`).join("\n") + "\n");
  return haproxyCheck(args, config, io);
}

const VERSION = /^\d+\.\d+$/;

/** `--haproxy FILE [--spoe FILE] [--haproxy-version X.Y]`: 0 when clean or only warnings, 2 on an error. */
function haproxyCheck(args: ParsedArgs, config: AgentConfig, io: CheckConfigIo): number {
  const { haproxy, spoe } = args.flags;
  const version = args.flags["haproxy-version"];
  if (haproxy === undefined || typeof haproxy !== "string") {
    if (spoe === undefined && version === undefined) return 0;
    io.stderr("--spoe and --haproxy-version check an HAProxy configuration: add --haproxy haproxy.cfg\n");
    return 2;
  }
  if (version !== undefined && (typeof version !== "string" || !VERSION.test(version))) {
    io.stderr(`--haproxy-version: expected major.minor such as 2.6 or 3.2, got ${JSON.stringify(version)}\n`);
    return 2;
  }
  const findings = checkHaproxy({
    config,
    haproxyFile: haproxy,
    ...(typeof spoe === "string" ? { spoeFile: spoe } : {}),
    ...(typeof version === "string" ? { version } : {}),
    env: io.env,
    readFile: io.readFile,
  });
  const errors = findings.filter((f) => f.severity === "error").length;
  if (findings.length === 0) io.stdout(`HAProxy configuration OK (${haproxy}${typeof spoe === "string" ? ` with ${spoe}` : ""}) for this policy\n`);
  else {
    const counts = `${errors} error${errors === 1 ? "" : "s"}, ${findings.length - errors} warning${findings.length - errors === 1 ? "" : "s"}`;
    io.stderr(`HAProxy configuration ${errors > 0 ? "does not fit this policy" : "fits this policy, with warnings"} (${counts}):\n${findings.map((f) => `  ${formatFinding(f)}`).join("\n")}\n`);
  }
  return errors > 0 ? 2 : 0;
}

/** `check-config --probe`, after a valid check: 0 when Valkey answered (or none is configured), 1 when not. */
export async function probeCommand(args: ParsedArgs, io: CheckConfigIo): Promise<number> {
  const report = await probeValkey(loadConfig({ args, env: io.env, readFile: io.readFile }));
  (report.ok ? io.stdout : io.stderr)(`${report.lines.join("\n")}\n`);
  return report.ok ? 0 : 1;
}
