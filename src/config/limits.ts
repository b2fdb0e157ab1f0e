/**
 * `limits[]` of the config file → validated LimitDefinitions, and the default limit built from
 * the seed's SPOA_RATE_INTERVAL / SPOA_RATE_BURST when no limits are listed.
 * @module
 */
import type { LimitDefinition } from "../ratelimit/policy/types.ts";
import { type IssueSink, shown } from "./errors.ts";
import { isRecord, parseCost, parseKey, parseMatch } from "./match.ts";
import { gcraParams, parseRate, rateFromSeed } from "../ratelimit/rate.ts";
import { closest } from "./suggest.ts";
import { parseConcurrency } from "./response-limits.ts";

/** The keys of one `limits[]` item, with their meaning (drives unknown-key errors and the docs). */
export const LIMIT_FIELDS: readonly { readonly key: string; readonly type: string; readonly default: string; readonly description: string }[] = [
  { key: "name", type: "string, `[A-Za-z0-9_.-]`, unique", default: "required", description: "Shown in `txn.<prefix>.policy`, logs and metrics." },
  { key: "rate", type: "`<count>/<unit>`", default: "required", description: "`100/s`, `6000/m`, `10/1h`, `5/30s`; units s, m, h, d." },
  { key: "burst", type: "whole number ≥ 1", default: "the rate's count", description: "Requests a fresh key may send at once (`100/s` → 100)." },
  { key: "messages", type: "list of message names", default: "`haproxy.messages`", description: "SPOE messages the limit applies to; each must be in `haproxy.messages`." },
  { key: "match", type: "map arg → matcher", default: "matches all", description: "Every condition must hold: `{exact: s}`, `{prefix: s}`, `{regex: s}`, `{in: [..]}`, `{cidr: [..]}`." },
  { key: "key", type: "list", default: "`[identity]`", description: "Parts of the counter key: `identity`, `arg:<name>`, `{pathPrefix: <arg>, segments: n}`." },
  { key: "cost", type: "whole number ≥ 0, `{arg, default, max}` or `{response, estimate, max}`", default: "1", description: "Units one request takes; from an argument with `{arg: name, default: 1, max: 100}`; from the response with `{response: tokens, estimate: 0, max: 1000000000}` (post-paid: the request is admitted while the key is not in debt, the response message's argument is charged)." },
  { key: "shadow", type: "boolean", default: "false", description: "Evaluate and report (`txn.<prefix>.shadow_denied`) but never deny." },
  { key: "concurrency", type: "whole number ≥ 1", default: "none", description: "Requests of one key in flight at once: a lease from the request to its response message, or `leaseTtl` at most." },
  { key: "leaseTtl", type: "duration (`30s`, `2m`, `500ms`)", default: "`30s`", description: "Longest a lease is held when no response message comes (client abort, HAProxy reload or crash); at least HAProxy's `timeout server`." },
  { key: "denyStatus", type: "429 or 503", default: "429", description: "Status for a request refused by `concurrency` (the agent sets `txn.<prefix>.deny_status`)." },
];
const KEYS = LIMIT_FIELDS.map((f) => f.key);
const NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const RATE_EXPECTED = `expected "<count>/<unit>", got`;

function parseMessages(raw: unknown, path: string, known: readonly string[], sink: IssueSink): readonly string[] {
  if (raw === undefined || raw === null) return known;
  const list = typeof raw === "string" ? [raw] : raw;
  if (!Array.isArray(list) || list.length === 0 || !list.every((m) => typeof m === "string")) {
    sink.add(path, `expected a non-empty list of message names, got ${shown(raw)}`);
    return known;
  }
  for (const message of list as string[]) {
    if (!known.includes(message)) {
      sink.add(path, `message "${message}" is not in haproxy.messages (${known.join(", ")})`, `add it to haproxy.messages or fix the name`);
    }
  }
  return list as string[];
}

function parseLimit(raw: unknown, path: string, messages: readonly string[], sink: IssueSink): LimitDefinition | undefined {
  if (!isRecord(raw)) {
    sink.add(path, `expected a map with name and rate, got ${shown(raw)}`);
    return undefined;
  }
  for (const key of Object.keys(raw)) {
    if (KEYS.includes(key)) continue;
    const guess = closest(key, KEYS);
    sink.add(`${path}.${key}`, `unknown key "${key}"`, guess === undefined ? `a limit takes ${KEYS.join(", ")}` : `did you mean "${guess}"?`);
  }
  const before = sink.issues.length;
  const name = raw.name;
  if (typeof name !== "string" || !NAME.test(name)) {
    sink.add(`${path}.name`, `expected 1 to 64 letters, digits, '_', '.' or '-', got ${shown(name)}`);
  }
  const rate = typeof raw.rate === "string" ? parseRate(raw.rate) : undefined;
  if (rate === undefined) {
    sink.add(`${path}.rate`, `${RATE_EXPECTED} ${shown(raw.rate)}`, `write it like "100/s", "6000/m", "10/1h" or "5/30s"`);
  }
  const burst = raw.burst ?? rate?.count ?? 1;
  if (!Number.isSafeInteger(burst) || (burst as number) < 1 || (burst as number) > 1_000_000_000) {
    sink.add(`${path}.burst`, `expected a whole number from 1 to 1000000000, got ${shown(raw.burst)}`);
  }
  const cost = parseCost(raw.cost, `${path}.cost`, sink);
  const concurrency = parseConcurrency(raw, path, sink);
  const shadow = raw.shadow ?? false;
  if (typeof shadow !== "boolean") sink.add(`${path}.shadow`, `expected true or false, got ${shown(shadow)}`);
  const definition = {
    name: name as string,
    messages: parseMessages(raw.messages, `${path}.messages`, messages, sink),
    match: parseMatch(raw.match, `${path}.match`, sink),
    key: parseKey(raw.key, `${path}.key`, sink),
    cost,
    shadow: shadow === true,
    ...(concurrency === undefined ? {} : { concurrency }),
  };
  if (sink.issues.length > before || rate === undefined) return undefined;
  const unitCost = cost.kind === "constant" ? cost.value : cost.kind === "arg" ? cost.default : cost.estimate;
  if (unitCost > (burst as number)) {
    const what = cost.kind === "constant" ? "cost" : cost.kind === "arg" ? "cost.default" : "cost.estimate";
    sink.add(`${path}.${what}`, `${what} ${unitCost} exceeds burst ${burst}: such a request can never pass`, `raise burst to at least ${unitCost} or lower ${what}`);
    return undefined;
  }
  return { ...definition, count: rate.count, periodSeconds: rate.periodSeconds, burst: burst as number, params: gcraParams(rate, burst as number) };
}

/** Parses the file's `limits` list; names must be unique. */
export function parseLimits(raw: unknown, options: { readonly messages: readonly string[]; readonly sink: IssueSink }): readonly LimitDefinition[] {
  const { messages, sink } = options;
  if (!Array.isArray(raw) || raw.length === 0) {
    sink.add("limits", `expected a non-empty list of limits, got ${shown(raw)}`, "remove the key to use the default limit");
    return [];
  }
  const limits: LimitDefinition[] = [];
  const seen = new Map<string, number>();
  raw.forEach((item, i) => {
    const name = isRecord(item) ? item.name : undefined;
    if (typeof name === "string") {
      const first = seen.get(name);
      if (first !== undefined) sink.add(`limits[${i}].name`, `duplicate limit name "${name}" (also limits[${first}])`, "give every limit its own name");
      else seen.set(name, i);
    }
    const limit = parseLimit(item, `limits[${i}]`, messages, sink);
    if (limit !== undefined) limits.push(limit);
  });
  return limits;
}

/** The single limit used when `limits` is absent: the seed's T and τ, keyed by identity. */
export function defaultLimit(options: { readonly intervalUs: number; readonly burstUs: number; readonly messages: readonly string[] }): LimitDefinition {
  const { intervalUs, burstUs, messages } = options;
  const rate = rateFromSeed(intervalUs, burstUs);
  return {
    name: "default",
    messages,
    match: [],
    key: [{ kind: "identity" }],
    count: rate.count,
    periodSeconds: rate.periodSeconds,
    burst: rate.burst,
    params: { emissionIntervalUs: intervalUs, burstToleranceUs: burstUs },
    cost: { kind: "constant", value: 1 },
    shadow: false,
  };
}
