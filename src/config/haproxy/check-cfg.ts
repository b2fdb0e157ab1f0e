/**
 * Checks haproxy.cfg against the agent: the variables its rules read against those the agent
 * sets (the lean ACK's trap), the rule that answers 429, and the agent backend's mode and checks
 * for the HAProxy version.
 * @module
 */
import { AGENT_VARIABLES } from "../../ratelimit/answer/variable-names.ts";
import type { AgentConfig } from "../schema.ts";
import { closest } from "../suggest.ts";
import { type CfgSection, findLine } from "./cfg-text.ts";
import type { FindingSink } from "./findings.ts";
import { haproxyTimeMs, type SpoeEngine } from "./spoe-model.ts";

const PROXIES = new Set(["frontend", "backend", "listen"]);
const VAR_READ = /\bvar\((proc|sess|txn|req|res)\.([A-Za-z0-9_.]+)[,)]/g;
const VAR_WRITE = /\b(?:set-var(?:-fmt)?|unset-var)\((proc|sess|txn|req|res)\.([A-Za-z0-9_.]+)[,)]/g;
/** The agent's decision variables: a rule reading one of them can deny on the agent's answer. */
const DECISION_VARS = new Set(["allowed", "ip_score"]);

/** True when the major.minor `version` is at least `minimum`. */
export function versionAtLeast(version: string, minimum: string): boolean {
  const [a, b] = version.split(".").map(Number);
  const [c, d] = minimum.split(".").map(Number);
  return a > c || (a === c && (b ?? 0) >= (d ?? 0));
}

/** Reads of the agent's variables (under `prefix`) in every proxy section, with their line. */
function agentVarReads(sections: readonly CfgSection[], prefix: string): { scope: string; name: string; line: number; full: string }[] {
  const written = new Set<string>();
  for (const s of sections) for (const l of s.lines) for (const m of l.words.join(" ").matchAll(VAR_WRITE)) written.add(`${m[1]}.${m[2]}`);
  const reads: { scope: string; name: string; line: number; full: string }[] = [];
  for (const s of sections) {
    if (!PROXIES.has(s.kind)) continue;
    for (const l of s.lines) {
      for (const m of l.words.join(" ").matchAll(VAR_READ)) {
        const full = `${m[1]}.${m[2]}`;
        if (written.has(full) || !m[2].startsWith(`${prefix}.`)) continue;
        reads.push({ scope: m[1], name: m[2].slice(prefix.length + 1), line: l.line, full });
      }
    }
  }
  return reads;
}

/** The variables read under the SPOE var-prefix against those the agent sets with this config. */
export function checkVariables(sections: readonly CfgSection[], engine: SpoeEngine, config: AgentConfig, sink: FindingSink): void {
  const prefix = engine.varPrefix;
  const reported = new Set<string>();
  for (const read of agentVarReads(sections, prefix)) {
    if (engine.haproxyVars.includes(read.name) || reported.has(read.full)) continue;
    reported.add(read.full);
    const known = AGENT_VARIABLES.find((v) => v.name === read.name);
    if (known === undefined) {
      const guess = closest(read.name, AGENT_VARIABLES.map((v) => v.name));
      sink.error(read.line, `reads ${read.full}, which the agent never sets`, guess === undefined ? `the agent sets ${AGENT_VARIABLES.map((v) => v.name).join(", ")}` : `did you mean ${read.scope}.${prefix}.${guess}?`);
    } else if (known.scope !== read.scope) {
      sink.error(read.line, `reads ${read.full}, but the agent sets ${read.name} in scope ${known.scope}`, `read var(${known.scope}.${prefix}.${read.name})`);
    } else if (!config.haproxy.variables.includes(read.name)) {
      sink.error(
        read.line,
        `reads ${read.full}, but this configuration's ACK does not set it (haproxy.variables: ${config.haproxy.variables.join(",")}): it is never found`,
        `add ${read.name} to haproxy.variables (--variables or SPOA_VARIABLES ${[...config.haproxy.variables, read.name].join(",")})`,
      );
    }
  }
}

/** A rule that answers a request from the agent's decision: deny, return, tarpit or reject reading allowed/ip_score. */
export function checkDenyRule(sections: readonly CfgSection[], engine: SpoeEngine, filterLine: number, sink: FindingSink): void {
  const prefix = engine.varPrefix;
  const decisionRead = new RegExp(`\\bvar\\((?:txn|sess)\\.${prefix.replace(/\./g, "\\.")}\\.(${[...DECISION_VARS].join("|")})\\)`);
  let found = false;
  for (const s of sections) {
    if (!PROXIES.has(s.kind)) continue;
    for (const l of s.lines) {
      if (l.words[0] !== "http-request" || !["deny", "return", "tarpit", "reject"].includes(l.words[1] ?? "")) continue;
      if (!decisionRead.test(l.words.join(" "))) continue;
      found = true;
      const hasBody = l.words.some((w) => ["string", "lf-string", "file", "lf-file", "errorfile", "errorfiles"].includes(w));
      if (l.words[1] === "deny" && l.words.includes("hdr") && !hasBody) {
        sink.warning(l.line, "a deny without a body drops its hdr arguments (HAProxy answers from its error file): the 429 has no Retry-After", `write it as \`http-request return status 429 content-type text/plain string "Too Many Requests" hdr ...\``);
      }
    }
  }
  if (!found) {
    sink.error(
      filterLine,
      `no http-request rule denies on the agent's decision (var(txn.${prefix}.allowed) or var(sess.${prefix}.ip_score)): every request passes`,
      `add \`http-request return status 429 content-type text/plain string "Too Many Requests" hdr Retry-After "%[var(txn.${prefix}.retry_after)]" if { var(txn.${prefix}.allowed) -m found } !{ var(txn.${prefix}.allowed) -m bool }\``,
    );
  }
}

/** The mode a backend runs in: its own `mode`, else the last `defaults` before it, else tcp. */
function backendMode(sections: readonly CfgSection[], backend: CfgSection): { mode: string; line: number } {
  const own = findLine(backend, "mode");
  if (own?.words[1] !== undefined) return { mode: own.words[1], line: own.line };
  const defaults = sections.filter((s) => s.kind === "defaults" && s.line < backend.line).at(-1);
  const inherited = findLine(defaults, "mode");
  return { mode: inherited?.words[1] ?? "tcp", line: backend.line };
}

/** The agent backend named by `use-backend`: exists, mode for the version, servers checked with SPOP and brought UP quickly. */
export function checkAgentBackend(sections: readonly CfgSection[], engine: SpoeEngine, version: string | undefined, sink: FindingSink, spoeSink: FindingSink): void {
  if (engine.backend === undefined) {
    spoeSink.error(engine.agentLine, `spoe-agent ${engine.agentName} has no use-backend: HAProxy has no agent to send to`, "add `use-backend be_spoa_ratelimit` and that backend to haproxy.cfg");
    return;
  }
  const backend = sections.find((s) => (s.kind === "backend" || s.kind === "listen") && s.name === engine.backend);
  if (backend === undefined) {
    spoeSink.error(engine.backendLine ?? engine.agentLine, `use-backend ${engine.backend}: haproxy.cfg has no such backend`, `add \`backend ${engine.backend}\` with \`mode tcp\`, \`option spop-check\` and the agent's server`);
    return;
  }
  const { mode, line } = backendMode(sections, backend);
  const on = version === undefined ? "" : ` on HAProxy ${version}`;
  if (mode === "http") {
    sink.error(line, `backend ${backend.name} runs in mode http${findLine(backend, "mode") === undefined ? " (from defaults)" : ""}: HAProxy refuses an SPOE backend in mode http`, "add `mode tcp` to the backend (loads on 2.6 … 3.x; 3.1+ converts it to spop)");
  } else if (mode === "spop" && (version === undefined || !versionAtLeast(version, "3.1"))) {
    const message = `backend ${backend.name} uses mode spop, which HAProxy 3.0 and older refuse${version === undefined ? " (pass --haproxy-version to check one version)" : on}`;
    (version === undefined ? sink.warning : sink.error)(line, message, "use `mode tcp` (3.1+ converts it to spop)");
  } else if (mode !== "tcp" && mode !== "spop") {
    sink.error(line, `backend ${backend.name} runs in mode ${mode}: an SPOE backend needs mode tcp (or spop on 3.1+)`, "write `mode tcp`");
  }
  const servers = backend.lines.filter((l) => l.words[0] === "server");
  if (servers.length === 0) sink.error(backend.line, `backend ${backend.name} has no server: HAProxy has no agent to send to`, "add `server spoa 127.0.0.1:12345 check inter 5s fastinter 500ms downinter 1s`");
  const spopCheck = findLine(backend, "option", "spop-check") !== undefined;
  for (const server of servers) {
    const words = server.words;
    if (!words.includes("check")) {
      sink.warning(server.line, `server ${words[1]} has no check: while the agent is down every request waits timeout processing`, "add `check` (and `option spop-check` to the backend)");
      continue;
    }
    if (!spopCheck) sink.warning(server.line, `server ${words[1]} is checked by a TCP connect only: an agent that accepts but does not speak SPOP stays UP`, `add \`option spop-check\` to backend ${backend.name}`);
    const after = (keyword: string) => haproxyTimeMs(words[words.indexOf(keyword) + 1] ?? "");
    const inter = words.includes("inter") ? after("inter") ?? 2000 : 2000;
    const down = words.includes("downinter") ? after("downinter") ?? inter : inter;
    const fast = words.includes("fastinter") ? after("fastinter") ?? inter : inter;
    if (down + fast > 2000) {
      sink.warning(
        server.line,
        `server ${words[1]}: when HAProxy starts before the agent (or the agent restarts) the agent stays DOWN for up to ${(down + fast) / 1000} s after it listens, and requests pass without a decision meanwhile`,
        "add `fastinter 500ms downinter 1s` to the server line",
      );
    }
  }
}
