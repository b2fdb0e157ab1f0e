/**
 * The HAProxy side of limits that see the response (a response cost, a concurrency limit),
 * checked as far as the files tell: the SPOE engine must send the response message
 * (`check-response` on `event on-http-response`) with `ticket=var(txn.<p>.ticket)` and each
 * response cost's argument, and a concurrency limit asking for 503 needs a rule that reads
 * `txn.<p>.deny_status`. What the files cannot tell: whether the backend really sends the
 * header a sample reads, and whether a later http-request rule answers before the backend does
 * (then no response message comes and a lease waits for its leaseTtl).
 * @module
 */
import { RESPONSE_MESSAGE_NAME, TICKET_ARG } from "../../ratelimit/response/phase-handler.ts";
import type { AgentConfig } from "../schema.ts";
import type { CfgSection } from "./cfg-text.ts";
import type { FindingSink } from "./findings.ts";
import type { SpoeEngine } from "./spoe-model.ts";

/** The event HAProxy sends the response message on. */
export const RESPONSE_EVENT = "on-http-response";

/** Findings for the response message and the 503 rule; nothing when no limit sees the response. */
export function checkResponseSide(
  engine: SpoeEngine,
  config: AgentConfig,
  cfg: { readonly sections: readonly CfgSection[]; readonly sink: FindingSink },
  sink: FindingSink,
): void {
  const seeing = config.limits.map((l, i) => ({ l, i })).filter(({ l }) => l.cost.kind === "response" || l.concurrency !== undefined);
  if (seeing.length === 0) return;
  const first = seeing[0];
  const effect = "tokens are never charged and every concurrency slot is held until its leaseTtl";
  const prefix = engine.varPrefix;
  const section = engine.messageSections.get(RESPONSE_MESSAGE_NAME);
  const example = `spoe-message ${RESPONSE_MESSAGE_NAME} / args ${TICKET_ARG}=var(txn.${prefix}.${TICKET_ARG}) tokens=res.hdr(x-tokens-used) / event ${RESPONSE_EVENT} if { var(txn.${prefix}.${TICKET_ARG}) -m found } (deploy/haproxy/spoe-ratelimit.conf)`;
  if (!engine.messages.includes(RESPONSE_MESSAGE_NAME) || section === undefined) {
    sink.error(engine.messagesLine ?? engine.agentLine, `limits[${first.i}] (${first.l.name}) sees the response, but spoe-agent ${engine.agentName} does not send ${RESPONSE_MESSAGE_NAME}: ${effect}`, `add ${RESPONSE_MESSAGE_NAME} to its \`messages\` line and a section: ${example}`);
    return;
  }
  if (section.event?.name !== RESPONSE_EVENT) {
    sink.error(section.event?.line ?? section.line, `spoe-message ${RESPONSE_MESSAGE_NAME} is not sent on ${RESPONSE_EVENT}: ${effect}`, `use \`event ${RESPONSE_EVENT} if { var(txn.${prefix}.${TICKET_ARG}) -m found }\``);
  }
  const args = new Map(section.args.map((a) => [a.name, a]));
  const ticket = args.get(TICKET_ARG);
  const want = `var(txn.${prefix}.${TICKET_ARG})`;
  if (ticket === undefined || ticket.sample.replace(/\s/g, "") !== want) {
    sink.error(ticket?.line ?? section.line, `spoe-message ${RESPONSE_MESSAGE_NAME} does not send ${TICKET_ARG}=${want}: the agent cannot tell which request a response belongs to, so ${effect}`, `add \`${TICKET_ARG}=${want}\` to its args`);
  }
  for (const { l, i } of seeing) {
    if (l.cost.kind !== "response" || args.has(l.cost.arg)) continue;
    sink.error(section.args[0]?.line ?? section.line, `limits[${i}].cost.response (${l.name}) reads argument "${l.cost.arg}", which spoe-message ${RESPONSE_MESSAGE_NAME} does not send: every response keeps its estimate (${l.cost.estimate})`, `add \`${l.cost.arg}=res.hdr(<the backend's header>)\` to its args`);
  }
  const wants503 = seeing.find(({ l }) => l.concurrency?.denyStatus === 503);
  if (wants503 === undefined) return;
  const reads = new RegExp(`var\\(txn\\.${prefix.replace(/\./g, "\\.")}\\.deny_status\\)`);
  const has503 = cfg.sections.some((s) => s.lines.some((line) => line.words[0] === "http-request" && reads.test(line.words.join(" "))));
  if (!has503) {
    const frontend = cfg.sections.find((s) => s.kind === "frontend" || s.kind === "listen");
    cfg.sink.warning(frontend?.line ?? 1, `limits[${wants503.i}] (${wants503.l.name}) asks for 503, but no http-request rule reads txn.${prefix}.deny_status: its denials are answered 429`, `add before the 429 rule: http-request return status 503 content-type text/plain string "Too Many Requests In Flight" hdr Retry-After "%[var(txn.${prefix}.retry_after)]" if { var(txn.${prefix}.deny_status) -m int 503 }`);
  }
}
