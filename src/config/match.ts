/**
 * The `match`, `key` and `cost` parts of a limit in the config file.
 * @module
 */
import type { ArgMatcher, CostSpec, KeyPart } from "../ratelimit/policy/types.ts";
import { type IssueSink, shown } from "./errors.ts";
import { cidrProblem, normaliseCidr } from "./net.ts";
import { closest } from "./suggest.ts";
import { isResponseCost, parseResponseCost } from "./response-limits.ts";

const ARG = /^[A-Za-z0-9_.-]+$/;
const MATCH_KINDS = ["exact", "prefix", "regex", "in", "cidr"] as const;

/** True for a plain (non-array, non-null) object, as YAML and JSON maps parse. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function stringList(raw: unknown, path: string, sink: IssueSink): string[] | undefined {
  if (!Array.isArray(raw) || raw.length === 0 || !raw.every((v) => typeof v === "string")) {
    sink.add(path, `expected a non-empty list of strings, got ${shown(raw)}`);
    return undefined;
  }
  return raw as string[];
}

function oneMatcher(arg: string, raw: unknown, path: string, sink: IssueSink): ArgMatcher | undefined {
  const keys = isRecord(raw) ? Object.keys(raw) : [];
  if (!isRecord(raw) || keys.length !== 1) {
    sink.add(path, `expected exactly one of {exact: s}, {prefix: s}, {regex: s}, {in: [..]}, {cidr: [..]}, got ${shown(raw)}`);
    return undefined;
  }
  const kind = keys[0];
  const value = raw[kind];
  const at = `${path}.${kind}`;
  switch (kind) {
    case "exact": case "prefix": case "regex": {
      if (typeof value !== "string") {
        sink.add(at, `expected a string, got ${shown(value)}`);
        return undefined;
      }
      if (kind !== "regex") return { arg, kind, value };
      try {
        new RegExp(value);
      } catch (error) {
        sink.add(at, `invalid regular expression ${shown(value)}: ${(error as Error).message}`, "use JavaScript RegExp syntax");
        return undefined;
      }
      return { arg, kind, pattern: value };
    }
    case "in": {
      const values = stringList(value, at, sink);
      return values === undefined ? undefined : { arg, kind, values };
    }
    case "cidr": {
      const cidrs = stringList(value, at, sink);
      if (cidrs === undefined) return undefined;
      let valid = true;
      cidrs.forEach((cidr, i) => {
        const problem = cidrProblem(cidr);
        if (problem !== undefined) {
          sink.add(`${at}[${i}]`, `invalid CIDR ${shown(cidr)}: ${problem}`, `write it like "10.0.0.0/8" or "2001:db8::/32"`);
          valid = false;
        }
      });
      return valid ? { arg, kind, cidrs: cidrs.map(normaliseCidr) } : undefined;
    }
    default: {
      const guess = closest(kind, MATCH_KINDS);
      sink.add(at, `unknown matcher "${kind}"`, guess === undefined ? `use one of ${MATCH_KINDS.join(", ")}` : `did you mean "${guess}"?`);
      return undefined;
    }
  }
}

/** Parses `match: {arg: {exact|prefix|regex|in|cidr: ...}}` into matchers, in the file's order. */
export function parseMatch(raw: unknown, path: string, sink: IssueSink): readonly ArgMatcher[] {
  if (raw === undefined || raw === null) return [];
  if (!isRecord(raw)) {
    sink.add(path, `expected a map of argument name to matcher, got ${shown(raw)}`);
    return [];
  }
  const matchers: ArgMatcher[] = [];
  for (const [arg, spec] of Object.entries(raw)) {
    if (!ARG.test(arg)) sink.add(`${path}.${arg}`, `argument names use letters, digits, '_', '.' and '-'`);
    const matcher = oneMatcher(arg, spec, `${path}.${arg}`, sink);
    if (matcher !== undefined) matchers.push(matcher);
  }
  return matchers;
}

function keyPart(raw: unknown, path: string, sink: IssueSink): KeyPart | undefined {
  if (raw === "identity") return { kind: "identity" };
  if (typeof raw === "string" && raw.startsWith("arg:") && ARG.test(raw.slice(4))) return { kind: "arg", arg: raw.slice(4) };
  if (isRecord(raw) && Object.keys(raw).every((k) => k === "pathPrefix" || k === "segments")) {
    const { pathPrefix, segments } = raw;
    if (typeof pathPrefix === "string" && ARG.test(pathPrefix) && Number.isSafeInteger(segments) && (segments as number) >= 1 && (segments as number) <= 32) {
      return { kind: "path-prefix", arg: pathPrefix, segments: segments as number };
    }
    sink.add(path, `expected {pathPrefix: <arg>, segments: 1..32}, got ${shown(raw)}`);
    return undefined;
  }
  sink.add(path, `expected "identity", "arg:<name>" or {pathPrefix: <arg>, segments: n}, got ${shown(raw)}`);
  return undefined;
}

/** Parses `key: [identity, "arg:host", {pathPrefix: path, segments: 2}]`; default `[identity]`. */
export function parseKey(raw: unknown, path: string, sink: IssueSink): readonly KeyPart[] {
  if (raw === undefined || raw === null) return [{ kind: "identity" }];
  const items = typeof raw === "string" || isRecord(raw) ? [raw] : raw;
  if (!Array.isArray(items) || items.length === 0) {
    sink.add(path, `expected a non-empty list of key parts, got ${shown(raw)}`);
    return [{ kind: "identity" }];
  }
  const parts: KeyPart[] = [];
  items.forEach((item, i) => {
    const part = keyPart(item, `${path}[${i}]`, sink);
    if (part !== undefined) parts.push(part);
  });
  return parts;
}

/** Parses `cost: 3` or `cost: {arg: name, default: 1, max: 100}`; default 1. */
export function parseCost(raw: unknown, path: string, sink: IssueSink): CostSpec {
  if (raw === undefined || raw === null) return { kind: "constant", value: 1 };
  if (typeof raw === "number") {
    if (Number.isSafeInteger(raw) && raw >= 0) return { kind: "constant", value: raw };
    sink.add(path, `expected a whole number ≥ 0, got ${shown(raw)}`);
    return { kind: "constant", value: 1 };
  }
  if (isResponseCost(raw)) return parseResponseCost(raw, path, sink);
  if (isRecord(raw) && typeof raw.arg === "string" && ARG.test(raw.arg)) {
    const unknown = Object.keys(raw).filter((k) => !["arg", "default", "max"].includes(k));
    for (const k of unknown) sink.add(`${path}.${k}`, `unknown key "${k}"`, `cost takes arg, default and max`);
    const def = raw.default ?? 1;
    const max = raw.max ?? 100;
    const whole = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0;
    if (!whole(def)) sink.add(`${path}.default`, `expected a whole number ≥ 0, got ${shown(def)}`);
    if (!whole(max) || (max as number) < 1) sink.add(`${path}.max`, `expected a whole number ≥ 1, got ${shown(max)}`);
    if (whole(def) && whole(max) && (def as number) > (max as number)) sink.add(`${path}.default`, `default ${def} exceeds max ${max}`);
    return { kind: "arg", arg: raw.arg, default: whole(def) ? (def as number) : 1, max: whole(max) ? (max as number) : 100 };
  }
  sink.add(path, `expected a whole number ≥ 0, {arg: <name>, default: 1, max: 100} or {response: <name>}, got ${shown(raw)}`);
  return { kind: "constant", value: 1 };
}
