/**
 * Policy compilation and matching: turns validated LimitDefinitions into a PolicySet that,
 * per message, yields the store checks of every limit that applies. Everything that does not
 * depend on the request (candidate lists per message name, regexes, CIDR sets, RateLimit-Policy
 * items) is computed once here, because checksFor runs for every request.
 * @module
 */
import type { Message, NamedData } from "../spop/types.ts";
import { escapeIdentity, limitKey, paramsHash } from "./keys.ts";
import type { KeyPart, LimitDefinition } from "./policy-types.ts";
import type { LimitCheck } from "./store.ts";
import { dataText, findArg } from "./policy/args.ts";
import { compileCost, type CostFn } from "./policy/cost.ts";
import { PolicyError } from "./policy/errors.ts";
import { keyPartText } from "./policy/key-text.ts";
import { compileMatcher, type Predicate } from "./policy/matchers.ts";
import { policyItem } from "./ratelimit-headers.ts";

export { PolicyError } from "./policy/errors.ts";

/** The limits that apply to one message and their checks, index for index. */
export interface MatchedLimits {
  readonly checks: readonly LimitCheck[];
  readonly limits: readonly LimitDefinition[];
  /** Pre-formatted `RateLimit-Policy` items of the same limits (see ratelimit-headers.ts). */
  readonly policyItems: readonly string[];
}

/** A compiled, immutable set of limits. */
export interface PolicySet {
  readonly limits: readonly LimitDefinition[];
  /** True when some limit listens to this message name (lets callers skip identity work). */
  handles(messageName: string): boolean;
  /** The checks of every limit matching `message`; undefined when none matches. */
  checksFor(message: Message, identity: string): MatchedLimits | undefined;
}

interface CompiledLimit {
  readonly definition: LimitDefinition;
  /** limitKey(prefix, keyText, name, params) with the constant parts built once. */
  readonly storeKey: (keyText: string) => string;
  readonly predicates: readonly Predicate[];
  readonly keyText: (args: readonly NamedData[], identity: string) => string;
  readonly cost: CostFn;
  readonly policyItem: string;
}

/** The first `segments` `/`-separated segments of a path: ("/api/v1/x", 2) → "/api/v1". */
export function pathPrefix(path: string, segments: number): string {
  if (segments <= 0) return "";
  const query = path.indexOf("?");
  const end = query < 0 ? path.length : query;
  let seen = 0;
  for (let i = 1; i < end; i++) {
    if (path.charCodeAt(i) === 47 && ++seen === segments) return path.slice(0, i);
  }
  return query < 0 ? path : path.slice(0, end);
}

function partText(part: KeyPart, args: readonly NamedData[], identity: string): string {
  if (part.kind === "identity") return identity;
  const data = findArg(args, part.arg);
  // A missing argument keys as the empty string: requests without it share one budget.
  const text = data === undefined ? "" : dataText(data) ?? "";
  return part.kind === "arg" ? text : pathPrefix(text, part.segments);
}

function compileKey(parts: readonly KeyPart[]): CompiledLimit["keyText"] {
  if (parts.length === 1 && parts[0].kind === "identity") return (_args, identity) => identity;
  if (parts.length === 1) {
    const part = parts[0];
    return (args, identity) => keyPartText(partText(part, args, identity));
  }
  return (args, identity) => {
    let out = "";
    for (let i = 0; i < parts.length; i++) {
      if (i > 0) out += "|";
      out += keyPartText(partText(parts[i], args, identity));
    }
    return out;
  };
}

/**
 * limitKey for one limit, with everything but the key text computed once: limitKey hashes the
 * params on every call, which was a third of the request's cost. The policy tests pin the
 * result to limitKey's output.
 */
function keyBuilder(prefix: string, limit: LimitDefinition): (keyText: string) => string {
  const head = `${prefix}{`;
  const tail = `}:${limit.name}:${paramsHash(limit.params)}`;
  if (limitKey(prefix, "a{%}", limit.name, limit.params) !== `${head}${escapeIdentity("a{%}")}${tail}`) {
    return (keyText) => limitKey(prefix, keyText, limit.name, limit.params);
  }
  return (keyText) => head + escapeIdentity(keyText) + tail;
}

/**
 * Compiles limits for fast matching.
 * @throws {PolicyError} on a duplicate name, a bad regex or CIDR, or a key prefix with a brace.
 */
export function compilePolicies(limits: readonly LimitDefinition[], options: { keyPrefix: string }): PolicySet {
  const { keyPrefix } = options;
  const byMessage = new Map<string, CompiledLimit[]>();
  const names = new Set<string>();
  for (const definition of limits) {
    if (names.has(definition.name)) throw new PolicyError(`Duplicate limit name "${definition.name}"`);
    names.add(definition.name);
    try {
      limitKey(keyPrefix, "probe", definition.name, definition.params);
    } catch (cause) {
      throw new PolicyError((cause as Error).message, { cause });
    }
    const compiled: CompiledLimit = {
      definition,
      storeKey: keyBuilder(keyPrefix, definition),
      predicates: definition.match.map((m) => compileMatcher(m, definition.name)),
      keyText: compileKey(definition.key),
      cost: compileCost(definition.cost),
      policyItem: policyItem(definition),
    };
    for (const message of new Set(definition.messages)) {
      const list = byMessage.get(message);
      if (list === undefined) byMessage.set(message, [compiled]);
      else list.push(compiled);
    }
  }
  return {
    limits,
    handles: (name) => byMessage.has(name),
    checksFor(message: Message, identity: string): MatchedLimits | undefined {
      const candidates = byMessage.get(message.name);
      if (candidates === undefined) return undefined;
      const args = message.args;
      const checks: LimitCheck[] = [];
      const matched: LimitDefinition[] = [];
      const items: string[] = [];
      outer: for (let i = 0; i < candidates.length; i++) {
        const limit = candidates[i];
        for (let p = 0; p < limit.predicates.length; p++) if (!limit.predicates[p](args)) continue outer;
        const d = limit.definition;
        checks.push({
          key: limit.storeKey(limit.keyText(args, identity)),
          params: d.params,
          cost: limit.cost(args),
          shadow: d.shadow,
        });
        matched.push(d);
        items.push(limit.policyItem);
      }
      return checks.length === 0 ? undefined : { checks, limits: matched, policyItems: items };
    },
  };
}
