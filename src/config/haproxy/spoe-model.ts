/**
 * What an SPOE config says about one engine: the agent's messages, var-prefix, timeouts,
 * pipelining and backend, and each message's arguments and event — with line numbers, so every
 * finding can point at the line to change.
 * @module
 */
import { type CfgLine, type CfgSection, findLine } from "./cfg-text.ts";

/** One `args` entry of a spoe-message: `name=sample` (a bare sample has the name ""). */
export interface SpoeArg {
  readonly name: string;
  readonly sample: string;
  readonly line: number;
}

/** One spoe-message section. */
export interface SpoeMessage {
  readonly name: string;
  readonly line: number;
  readonly args: readonly SpoeArg[];
  readonly event?: { readonly name: string; readonly line: number };
}

/** The spoe-agent section of the engine and the messages it sends. */
export interface SpoeEngine {
  readonly agentName: string;
  readonly agentLine: number;
  /** The agent's `messages` line: names and where they are listed. */
  readonly messages: readonly string[];
  readonly messagesLine?: number;
  /** `option var-prefix`, or the agent's name (HAProxy's default). */
  readonly varPrefix: string;
  readonly varPrefixLine?: number;
  /** `timeout processing` in ms, when set. */
  readonly processingMs?: number;
  readonly processingLine?: number;
  /** The line of `no option pipelining`, when present. */
  readonly noPipeliningLine?: number;
  readonly backend?: string;
  readonly backendLine?: number;
  /** Variable names HAProxy itself sets under the prefix (`option set-on-error err` …). */
  readonly haproxyVars: readonly string[];
  readonly messageSections: ReadonlyMap<string, SpoeMessage>;
}

/** An HAProxy time (`100ms`, `2s`, `3m`, `1h`, `1d`, bare = ms) in ms; undefined when malformed. */
export function haproxyTimeMs(text: string | undefined): number | undefined {
  const m = /^(\d+)(us|ms|s|m|h|d)?$/.exec(text ?? "");
  if (m === null) return undefined;
  const factor = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] ?? "ms"] ?? 1;
  return Number(m[1]) * factor;
}

function message(section: CfgSection): SpoeMessage {
  const args: SpoeArg[] = [];
  let event: SpoeMessage["event"];
  for (const l of section.lines) {
    if (l.words[0] === "args") {
      for (const word of l.words.slice(1)) {
        const at = word.indexOf("=");
        args.push({ name: at > 0 ? word.slice(0, at) : "", sample: at > 0 ? word.slice(at + 1) : word, line: l.line });
      }
    } else if (l.words[0] === "event" && l.words[1] !== undefined) event = { name: l.words[1], line: l.line };
  }
  return { name: section.name, line: section.line, args, ...(event === undefined ? {} : { event }) };
}

function optionValue(agent: CfgSection, name: string): CfgLine | undefined {
  return findLine(agent, "option", name);
}

/**
 * The engine of one scope (`[ratelimit]`; "" when the file has no scope lines); undefined when
 * the scope has no spoe-agent section.
 */
export function spoeEngine(sections: readonly CfgSection[], scope: string): SpoeEngine | undefined {
  const inScope = sections.filter((s) => s.scope === scope);
  const agent = inScope.find((s) => s.kind === "spoe-agent");
  if (agent === undefined) return undefined;
  const messagesLines = agent.lines.filter((l) => l.words[0] === "messages");
  const prefix = optionValue(agent, "var-prefix");
  const processing = findLine(agent, "timeout", "processing");
  const backend = findLine(agent, "use-backend");
  const haproxyVars = ["set-on-error", "set-process-time", "set-total-time"]
    .map((option) => optionValue(agent, option)?.words[2])
    .filter((name): name is string => name !== undefined);
  const processingMs = haproxyTimeMs(processing?.words[2]);
  return {
    agentName: agent.name,
    agentLine: agent.line,
    messages: messagesLines.flatMap((l) => l.words.slice(1)),
    ...(messagesLines[0] === undefined ? {} : { messagesLine: messagesLines[0].line }),
    varPrefix: prefix?.words[2] ?? agent.name,
    ...(prefix === undefined ? {} : { varPrefixLine: prefix.line }),
    ...(processingMs === undefined ? {} : { processingMs, processingLine: processing?.line }),
    ...(findLine(agent, "no", "option", "pipelining") === undefined ? {} : { noPipeliningLine: findLine(agent, "no", "option", "pipelining")?.line }),
    ...(backend?.words[1] === undefined ? {} : { backend: backend.words[1], backendLine: backend.line }),
    haproxyVars,
    messageSections: new Map(inScope.filter((s) => s.kind === "spoe-message").map((s) => [s.name, message(s)])),
  };
}
