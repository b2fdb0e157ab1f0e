/**
 * Checks an SPOE engine against the agent's configuration: the messages it sends and their
 * events, the arguments each limit reads, var-prefix, `timeout processing` against the Valkey
 * deadline, and pipelining.
 * @module
 */
import { missingArgEffect, neededArgs, SHIPPED_SPOE_ARGS } from "../limit-args.ts";
import type { AgentConfig } from "../schema.ts";
import { closest } from "../suggest.ts";
import type { FindingSink } from "./findings.ts";
import type { SpoeEngine, SpoeMessage } from "./spoe-model.ts";
import { RESPONSE_MESSAGE_NAME } from "../../ratelimit/response/phase-handler.ts";

/** The event whose variables the frontend's http-request rules can read. */
export const FRONTEND_EVENT = "on-frontend-http-request";
/** Events that run before HAProxy has parsed an HTTP request: its path, method and headers are empty then. */
const PRE_HTTP_EVENTS = ["on-client-session", "on-server-session", "on-frontend-tcp-request", "on-backend-tcp-request"];

function checkMessages(engine: SpoeEngine, config: AgentConfig, sink: FindingSink): SpoeMessage[] {
  const at = engine.messagesLine ?? engine.agentLine;
  const answered = config.haproxy.messages.filter((m) => engine.messages.includes(m));
  // The response message is answered whatever haproxy.messages says (check-response.ts checks it).
  const requests = engine.messages.filter((m) => m !== RESPONSE_MESSAGE_NAME);
  if (answered.length === 0) {
    sink.error(
      at,
      `spoe-agent ${engine.agentName} sends ${requests.length === 0 ? "no messages" : `the messages ${requests.join(", ")}`}, but the agent answers only ${config.haproxy.messages.join(", ")}: no request is ever rate limited`,
      requests.length === 0 ? `add \`messages ${config.haproxy.messages[0]}\`` : `set haproxy.messages (--message) to ${requests.join(",")}, or send ${config.haproxy.messages[0]}`,
    );
  }
  config.limits.forEach((limit, i) => {
    if (answered.length > 0 && !limit.messages.some((m) => engine.messages.includes(m))) {
      sink.warning(at, `limits[${i}] (${limit.name}) applies to ${limit.messages.join(", ")}, which spoe-agent ${engine.agentName} never sends: it never applies`, `add the message to the \`messages\` line, or fix limits[${i}].messages`);
    }
  });
  const sections: SpoeMessage[] = [];
  for (const name of answered) {
    const section = engine.messageSections.get(name);
    if (section === undefined) {
      sink.error(at, `spoe-agent ${engine.agentName} lists message ${name}, but there is no \`spoe-message ${name}\` section`, `add a spoe-message ${name} section with its args and \`event ${FRONTEND_EVENT}\``);
      continue;
    }
    sections.push(section);
    if (section.event === undefined) {
      sink.error(section.line, `spoe-message ${name} has no event: HAProxy sends it only from a send-spoe-group rule, so requests are not rate limited`, `add \`event ${FRONTEND_EVENT}\``);
    } else if (PRE_HTTP_EVENTS.includes(section.event.name)) {
      sink.warning(section.event.line, `event ${section.event.name} runs before HAProxy has parsed the HTTP request: path, method and headers are empty`, `use \`event ${FRONTEND_EVENT}\``);
    }
  }
  return sections;
}

function sampleFor(arg: string): string {
  return SHIPPED_SPOE_ARGS.get(arg) ?? "<sample>";
}

function checkArgs(sections: readonly SpoeMessage[], config: AgentConfig, sink: FindingSink): void {
  for (const section of sections) {
    const argsLine = section.args[0]?.line ?? section.line;
    const sent = section.args.map((a) => a.name);
    for (const arg of section.args) {
      if (arg.name === "") sink.warning(arg.line, `argument "${arg.sample}" has no name: the agent finds arguments by name and ignores it`, `write it as NAME=${arg.sample}`);
    }
    const identity = [config.identity.sourceArg, config.identity.forwardedArg, config.identity.xffArg];
    const keyedByIdentity = config.limits.some((l) => l.messages.includes(section.name) && l.key.some((k) => k.kind === "identity"));
    if (keyedByIdentity && !sent.includes(config.identity.sourceArg)) {
      sink.error(
        argsLine,
        `spoe-message ${section.name} does not send ${config.identity.sourceArg}, the client's address: ${sent.some((a) => identity.includes(a)) ? "a request without a trusted forwarded header" : "every request"} is keyed as "unknown", so those clients share one limit`,
        `add \`${config.identity.sourceArg}=src\` to its args`,
      );
    }
    config.limits.forEach((limit, i) => {
      if (!limit.messages.includes(section.name)) return;
      for (const need of neededArgs(limit)) {
        if (sent.includes(need.arg)) continue;
        const guess = closest(need.arg, sent);
        sink.warning(
          argsLine,
          `limits[${i}].${need.at} (${limit.name}) reads argument "${need.arg}", which spoe-message ${section.name} does not send: ${missingArgEffect(need.role)}`,
          guess === undefined ? `add \`${need.arg}=${sampleFor(need.arg)}\` to its args` : `did you mean "${guess}"? Otherwise add \`${need.arg}=${sampleFor(need.arg)}\` to its args`,
        );
      }
    });
  }
}

/** Every check of one SPOE engine; returns the messages the agent answers, for the haproxy.cfg checks. */
export function checkSpoeEngine(engine: SpoeEngine, config: AgentConfig, sink: FindingSink): SpoeMessage[] {
  const sections = checkMessages(engine, config, sink);
  checkArgs(sections, config, sink);
  if (engine.varPrefix !== config.haproxy.varPrefix) {
    sink.warning(
      engine.varPrefixLine ?? engine.agentLine,
      `the variables appear as txn.${engine.varPrefix}.*${engine.varPrefixLine === undefined ? " (no option var-prefix: the spoe-agent's name)" : ""}, but haproxy.varPrefix is "${config.haproxy.varPrefix}": the agent checks the 63-byte name limit with the wrong prefix`,
      `set haproxy.varPrefix to ${engine.varPrefix} (--var-prefix ${engine.varPrefix})${engine.varPrefixLine === undefined ? `, or add \`option var-prefix ${config.haproxy.varPrefix}\`` : ""}`,
    );
  }
  const deadline = config.store.valkey?.deadlineMs;
  if (engine.processingMs === undefined) {
    sink.warning(engine.agentLine, `spoe-agent ${engine.agentName} has no \`timeout processing\`: a stuck agent stalls each request until the client gives up`, `add \`timeout processing 100ms\``);
  } else if (deadline !== undefined && deadline >= engine.processingMs) {
    sink.error(
      engine.processingLine ?? engine.agentLine,
      `timeout processing ${engine.processingMs} ms is not above the agent's Valkey deadline ${deadline} ms: when Valkey is slow HAProxy gives up first and the request passes unanswered instead of by the failure policy`,
      `set store.valkey.deadlineMs (--valkey-deadline) to at most ${Math.max(1, Math.floor(engine.processingMs / 2))}, or raise timeout processing`,
    );
  } else if (deadline !== undefined && deadline > engine.processingMs / 2) {
    sink.warning(
      engine.processingLine ?? engine.agentLine,
      `timeout processing ${engine.processingMs} ms leaves less than half of it beyond the Valkey deadline ${deadline} ms for connecting, queueing and the answer`,
      `set store.valkey.deadlineMs (--valkey-deadline) to at most ${Math.max(1, Math.floor(engine.processingMs / 2))}`,
    );
  }
  if (engine.noPipeliningLine !== undefined) {
    sink.warning(engine.noPipeliningLine, "no option pipelining: one request at a time per agent connection, so HAProxy opens a connection for every concurrent request", "remove the line (pipelining is on by default and the agent supports it)");
  }
  return sections;
}
