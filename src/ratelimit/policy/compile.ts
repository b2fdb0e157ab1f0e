/**
 * Policy compilation and matching: turns validated LimitDefinitions into a PolicySet that,
 * per message, yields the store checks of every limit that applies. Everything that does not
 * depend on the request (candidate lists per message name, regexes, CIDR sets, RateLimit-Policy
 * items) is computed once here, because checksFor runs for every request.
 * @module
 */
import type { Message, NamedData } from "../../spop/types.ts";
import { type KeyShape, keyTag, limitKey, limitKeyShape, SplitKeyCheck } from "../identity/keys.ts";
import type { KeyPart, LimitDefinition } from "./types.ts";
import type { LimitCheck } from "../store.ts";
import { dataText, findArg } from "./args.ts";
import { compileCost, type CostFn } from "./cost.ts";
import { PolicyError } from "./errors.ts";
import { keyPartText } from "./key-text.ts";
import { compileMatcher, type Predicate } from "./matchers.ts";
import { type CompiledLimit, limitAnswer } from "../answer/limit-answer.ts";
import { asPhaseCheck, type PhaseSpec, phaseSpecOf, REQUEST_ONLY } from "../response/phase-checks.ts";
import type { PhaseCheck } from "../response/phase.ts";

export { PolicyError } from "./errors.ts";

/**
 * The limits that apply to one message and their checks, index for index: the store takes the
 * checks as one array, the answer reads each limit's constants from the limit itself.
 *
 * @example The checks of a matching message
 * ```ts
 * import { compilePolicies, gcraParams, type MatchedLimits } from "@spoa-gcra/spoa-gcra";
 *
 * const policies = compilePolicies([{
 *   name: "all", messages: ["check-rate"], match: [], key: [{ kind: "identity" }], count: 10, periodSeconds: 1, burst: 10,
 *   params: gcraParams({ count: 10, periodSeconds: 1 }, 10), cost: { kind: "constant", value: 1 }, shadow: false,
 * }], { keyPrefix: "rl:" });
 * const matched: MatchedLimits | undefined = policies.checksFor({ name: "check-rate", args: [] }, "192.0.2.1");
 * console.assert(matched?.limits[0].name === "all" && matched.checks[0].key.startsWith("rl:{192.0.2.1}"));
 * ```
 */
export interface MatchedLimits {
  readonly checks: readonly LimitCheck[];
  readonly limits: readonly CompiledLimit[];
  /**
   * The same checks for the two-phase path (response/phase.ts), present only when some matched
   * limit has a response cost or a concurrency limit.
   */
  readonly phaseChecks?: readonly PhaseCheck[];
}

/**
 * A compiled, immutable set of limits.
 *
 * @example Skip messages no limit listens to
 * ```ts
 * import { compilePolicies, type PolicySet } from "@spoa-gcra/spoa-gcra";
 *
 * const policies: PolicySet = compilePolicies([], { keyPrefix: "rl:" });
 * console.assert(!policies.handles("check-rate") && policies.checksFor({ name: "check-rate", args: [] }, "192.0.2.1") === undefined);
 * ```
 */
export interface PolicySet {
  readonly limits: readonly LimitDefinition[];
  /** True when some limit listens to this message name (lets callers skip identity work). */
  handles(messageName: string): boolean;
  /** The checks of every limit matching `message`; undefined when none matches. */
  checksFor(message: Message, identity: string): MatchedLimits | undefined;
}

/** How one limit is matched and keyed per request, built once per compilation. */
interface LimitMatcher {
  readonly limit: CompiledLimit;
  /** limitKey(prefix, keyText, name, params) minus keyText, built once. */
  readonly shape: KeyShape;
  readonly predicates: readonly Predicate[];
  readonly keyText: (args: readonly NamedData[], identity: string) => string;
  readonly cost: CostFn;
  /** Set when the limit needs the response phase. */
  readonly phase: PhaseSpec | undefined;
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

function compileKey(parts: readonly KeyPart[]): LimitMatcher["keyText"] {
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

/** The limits listening to one message name: their matchers, and the compiled limits in the same order. */
interface Candidates {
  readonly list: readonly LimitMatcher[];
  readonly limits: readonly CompiledLimit[];
}

/**
 * Compiles limits for fast matching.
 *
 * @param limits Validated limit definitions (the config loader builds them from YAML).
 * @param options `keyPrefix`: prepended to every store key.
 * @returns The policy set a rate-limit handler evaluates per message.
 * @throws {PolicyError} On a duplicate name, a bad regex or CIDR, or a key prefix with a brace.
 *
 * @example A login limit keyed by client
 * ```ts
 * import { compilePolicies, gcraParams, type LimitDefinition, parseRate } from "@spoa-gcra/spoa-gcra";
 *
 * const login: LimitDefinition = {
 *   name: "login", messages: ["check-rate"], match: [{ arg: "path", kind: "prefix", value: "/login" }],
 *   key: [{ kind: "identity" }], count: 5, periodSeconds: 60, burst: 5, params: gcraParams(parseRate("5/m")!, 5),
 *   cost: { kind: "constant", value: 1 }, shadow: false,
 * };
 * const policies = compilePolicies([login], { keyPrefix: "rl:" });
 * const matched = policies.checksFor({ name: "check-rate", args: [{ name: "path", kind: "string", value: "/login" }] }, "192.0.2.1");
 * console.assert(policies.handles("check-rate") && matched?.checks.length === 1);
 * ```
 */
export function compilePolicies(limits: readonly LimitDefinition[], options: { keyPrefix: string }): PolicySet {
  const { keyPrefix } = options;
  const byMessage = new Map<string, LimitMatcher[]>();
  const names = new Set<string>();
  for (const definition of limits) {
    if (names.has(definition.name)) throw new PolicyError(`Duplicate limit name "${definition.name}"`);
    names.add(definition.name);
    try {
      limitKey(keyPrefix, "probe", definition.name, definition.params);
    } catch (cause) {
      throw new PolicyError((cause as Error).message, { cause });
    }
    const compiled: LimitMatcher = {
      limit: Object.freeze({ ...definition, answer: limitAnswer(definition) }),
      shape: limitKeyShape(keyPrefix, definition),
      predicates: definition.match.map((m) => compileMatcher(m, definition.name)),
      keyText: compileKey(definition.key),
      cost: compileCost(definition.cost),
      phase: phaseSpecOf(definition),
    };
    for (const message of new Set(definition.messages)) {
      const list = byMessage.get(message);
      if (list === undefined) byMessage.set(message, [compiled]);
      else list.push(compiled);
    }
  }
  // What a request needs when every candidate matches (the usual case): built once, shared.
  const byName = new Map<string, Candidates>();
  for (const [name, list] of byMessage) {
    byName.set(name, { list, limits: Object.freeze(list.map((l) => l.limit)) });
  }
  // Consecutive messages nearly always share one name: a string compare instead of two Map lookups.
  let lastName: string | undefined;
  let last: Candidates | undefined;
  const candidatesOf = (name: string): Candidates | undefined => {
    if (name !== lastName) {
      last = byName.get(name);
      lastName = name;
    }
    return last;
  };
  return {
    limits,
    handles: (name) => candidatesOf(name) !== undefined,
    checksFor(message: Message, identity: string): MatchedLimits | undefined {
      const candidates = candidatesOf(message.name);
      if (candidates === undefined) return undefined;
      const { list } = candidates;
      const args = message.args;
      const checks: SplitKeyCheck[] = [];
      // An own array only once some candidate did not match.
      let own: CompiledLimit[] | undefined;
      // The phase spec of each check, once some matched limit needs the response phase.
      let specs: PhaseSpec[] | undefined;
      outer: for (let i = 0; i < list.length; i++) {
        const limit = list[i];
        for (let p = 0; p < limit.predicates.length; p++) {
          if (limit.predicates[p](args)) continue;
          own ??= candidates.limits.slice(0, checks.length);
          continue outer;
        }
        const d = limit.limit;
        checks.push(new SplitKeyCheck(keyTag(limit.keyText(args, identity)), { shape: limit.shape, params: d.params, cost: limit.cost(args), shadow: d.shadow }));
        own?.push(d);
        if (limit.phase !== undefined && specs === undefined) specs = new Array<PhaseSpec>(checks.length - 1).fill(REQUEST_ONLY);
        specs?.push(limit.phase ?? REQUEST_ONLY);
      }
      if (checks.length === 0) return undefined;
      const matched = { checks, limits: own ?? candidates.limits };
      if (specs === undefined) return matched;
      // Some limit sees the response: every check of the request goes the two-phase way (all-or-nothing).
      const phaseSpecs = specs;
      return { ...matched, phaseChecks: checks.map((c, i) => asPhaseCheck(c, phaseSpecs[i])) };
    },
  };
}
