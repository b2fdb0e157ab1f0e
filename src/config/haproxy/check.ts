/**
 * `check-config --haproxy haproxy.cfg [--spoe spoe.conf]`: the operator's HAProxy side checked
 * against the agent's configuration. Each `filter spoe` line leads to its SPOE config (the
 * `--spoe` file, else the path the filter names) and engine; each finding names file, line, fix.
 * @module
 */
import type { AgentConfig } from "../schema.ts";
import { type CfgSection, parseSections } from "./cfg-text.ts";
import { checkAgentBackend, checkDenyRule, checkVariables } from "./check-cfg.ts";
import { checkSpoeEngine, FRONTEND_EVENT } from "./check-spoe.ts";
import { checkResponseSide } from "./check-response.ts";
import { findingSink, type HaproxyFinding } from "./findings.ts";
import { spoeEngine } from "./spoe-model.ts";

/** What checkHaproxy reads; host access injected for tests. */
export interface HaproxyCheckInput {
  readonly config: AgentConfig;
  readonly haproxyFile: string;
  /** The SPOE config to use instead of the path the `filter spoe` line names. */
  readonly spoeFile?: string;
  /** major.minor of the HAProxy that loads the file; undefined checks what loads on every version. */
  readonly version?: string;
  /** Expands `"${VAR}"` in haproxy.cfg (the environment HAProxy starts with). */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly readFile: (path: string) => string;
}

interface SpoeFilter {
  readonly section: CfgSection;
  readonly line: number;
  readonly engine?: string;
  readonly config?: string;
}

function spoeFilters(sections: readonly CfgSection[]): SpoeFilter[] {
  return sections.flatMap((section) =>
    section.lines
      .filter((l) => l.words[0] === "filter" && l.words[1] === "spoe")
      .map((l): SpoeFilter => {
        const after = (word: string) => (l.words.includes(word) ? l.words[l.words.indexOf(word) + 1] : undefined);
        const engine = after("engine");
        const config = after("config");
        return { section, line: l.line, ...(engine === undefined ? {} : { engine }), ...(config === undefined ? {} : { config }) };
      })
  );
}

function readText(path: string, readFile: (path: string) => string): string | Error {
  try {
    return readFile(path);
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}

/** Every finding for the HAProxy and SPOE files, in file order; throws nothing for bad files (they are findings). */
export function checkHaproxy(input: HaproxyCheckInput): HaproxyFinding[] {
  const findings: HaproxyFinding[] = [];
  const cfgSink = findingSink(input.haproxyFile, findings);
  const text = readText(input.haproxyFile, input.readFile);
  if (text instanceof Error) {
    cfgSink.error(0, `cannot read it: ${text.message}`, "pass the haproxy.cfg HAProxy loads (-f)");
    return findings;
  }
  const sections = parseSections(text, input.env);
  const filters = spoeFilters(sections);
  if (filters.length === 0) {
    const frontend = sections.find((s) => s.kind === "frontend" || s.kind === "listen");
    cfgSink.error(frontend?.line ?? 1, "no `filter spoe` line: HAProxy never asks the agent", `add \`filter spoe engine ratelimit config /usr/local/etc/haproxy/spoe-ratelimit.conf\` to ${frontend === undefined ? "the frontend" : `${frontend.kind} ${frontend.name}`}`);
    return findings;
  }
  for (const filter of filters) {
    const spoePath = input.spoeFile ?? filter.config;
    if (spoePath === undefined) {
      cfgSink.error(filter.line, "`filter spoe` without `config FILE`", "add `config /path/to/spoe-ratelimit.conf`");
      continue;
    }
    const spoeText = readText(spoePath, input.readFile);
    if (spoeText instanceof Error) {
      cfgSink.error(filter.line, `cannot read the SPOE config ${spoePath}: ${spoeText.message}`, "pass the file HAProxy loads with --spoe FILE");
      continue;
    }
    const spoeSink = findingSink(spoePath, findings);
    const spoeSections = parseSections(spoeText);
    const scope = filter.engine ?? "";
    const engine = spoeEngine(spoeSections, scope) ?? (spoeSections.some((s) => s.scope === "") ? spoeEngine(spoeSections, "") : undefined);
    if (engine === undefined) {
      spoeSink.error(1, `no spoe-agent section for engine ${scope === "" ? "(none named)" : `"${scope}" ([${scope}] scope)`}`, `start the agent's sections with \`[${scope || "ratelimit"}]\` and match \`filter spoe engine\` in ${input.haproxyFile}:${filter.line}`);
      continue;
    }
    const messages = checkSpoeEngine(engine, input.config, spoeSink);
    if (filter.section.kind === "frontend" && messages.some((m) => m.event !== undefined && m.event.name !== FRONTEND_EVENT && m.event.name.startsWith("on-backend"))) {
      cfgSink.error(filter.line, `the filter is in frontend ${filter.section.name}, whose http-request rules run before a backend event: they never see the agent's answer`, `use \`event ${FRONTEND_EVENT}\` in ${spoePath}`);
    }
    checkVariables(sections, engine, input.config, cfgSink);
    checkDenyRule(sections, engine, filter.line, cfgSink);
    checkAgentBackend(sections, engine, input.version, cfgSink, spoeSink);
    checkResponseSide(engine, input.config, { sections, sink: cfgSink }, spoeSink);
  }
  return findings;
}
