/**
 * Parses one field value by its kind. Flag and env values arrive as text; file values arrive
 * typed (YAML numbers, booleans, lists), and both must end up the same.
 * @module
 */
import { shown } from "./errors.ts";
import type { FieldKind, FieldValue } from "./fields.ts";
import { ACK_VARIABLE_NAMES } from "../ratelimit/answer/ack-selection.ts";
import { cidrProblem, normaliseCidr, parseHostPort, parseListenAddress } from "./net.ts";
import { LOG_LEVELS, type LogLevel } from "../observe/log.ts";

/** The outcome of parsing one value. */
export type Parsed =
  | { readonly ok: true; readonly value: FieldValue }
  | { readonly ok: false; readonly message: string; readonly fix?: string };

const URL_SCHEMES = ["redis:", "rediss:", "valkey:", "valkeys:"];

const ok = (value: FieldValue): Parsed => ({ ok: true, value });
const fail = (message: string, fix?: string): Parsed => (fix === undefined ? { ok: false, message } : { ok: false, message, fix });

/** A human description of a kind, for messages, help and docs. */
export function kindText(kind: FieldKind): string {
  switch (kind.type) {
    case "int": {
      const unit = kind.unit === undefined ? "" : ` of ${kind.unit}`;
      const range = kind.max >= Number.MAX_SAFE_INTEGER ? `≥ ${kind.min}` : `from ${kind.min} to ${kind.max}`;
      return `a whole number${unit} ${range}`;
    }
    case "string": return kind.expected === undefined ? "a string" : `a string of ${kind.expected}`;
    case "bool": return "true or false (1/0, yes/no, on/off)";
    case "enum": return kind.values.map((v) => `"${v}"`).join(", ").replace(/, ([^,]*)$/, " or $1");
    case "list": return `a list of ${{ cidr: "CIDRs", url: "redis:// URLs", "host-port": "host:port addresses", name: "names", variable: "variable names" }[kind.item]}`;
    case "url": return "a redis://, rediss://, valkey:// or valkeys:// URL";
    case "path": return "a file path";
    case "secret": return "a string";
    case "listen": return "host:port, [v6]:port or unix:/path";
    case "metrics": return `host:port, [v6]:port or "off"`;
    case "workers": return `a whole number from 1 to 1024 or "auto"`;
    case "mode": return `an octal permission string such as "0660"`;
    case "log-level": return LOG_LEVELS.join(", ");
  }
}

function parseInt(raw: unknown, kind: Extract<FieldKind, { type: "int" }>): Parsed {
  const n = typeof raw === "number" ? raw : typeof raw === "string" && /^\s*-?[0-9]+\s*$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < kind.min || n > kind.max) {
    return fail(`expected ${kindText(kind)}, got ${shown(raw)}`);
  }
  return ok(n);
}

function splitList(raw: unknown): readonly unknown[] | undefined {
  if (typeof raw === "string") return raw.split(",").map((s) => s.trim()).filter((s) => s !== "");
  return Array.isArray(raw) ? raw : undefined;
}

function parseListItem(item: unknown, kind: Extract<FieldKind, { type: "list" }>): Parsed {
  if (typeof item !== "string" || item === "") return fail(`expected ${kindText(kind)}, got an item ${shown(item)}`);
  switch (kind.item) {
    case "cidr": {
      const problem = cidrProblem(item);
      return problem === undefined ? ok(normaliseCidr(item)) : fail(`invalid CIDR ${shown(item)}: ${problem}`, `write it like "10.0.0.0/8" or "2001:db8::/32"`);
    }
    case "url": return parseUrl(item);
    case "host-port":
      return parseHostPort(item) === undefined ? fail(`expected host:port, got ${shown(item)}`, `write it like "sentinel-0:26379"`) : ok(item);
    case "name":
      return /^[A-Za-z0-9_.-]+$/.test(item) ? ok(item) : fail(`expected names of letters, digits, '_', '.' and '-', got ${shown(item)}`);
    case "variable":
      return ACK_VARIABLE_NAMES.includes(item) ? ok(item) : fail(`${shown(item)} is not a variable the agent sets`, `choose among ${ACK_VARIABLE_NAMES.join(", ")}`);
  }
}

function parseUrl(raw: unknown): Parsed {
  if (typeof raw !== "string") return fail(`expected ${kindText({ type: "url" })}, got ${shown(raw)}`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return fail(`expected a URL such as "redis://valkey:6379", got ${shown(redactUrl(raw))}`);
  }
  if (!URL_SCHEMES.includes(url.protocol) || url.hostname === "") {
    return fail(`expected ${kindText({ type: "url" })}, got ${shown(redactUrl(raw))}`, `write it like "redis://valkey:6379"`);
  }
  return ok(raw);
}

/** "port 99999 is out of range …" for a host:port whose port TCP cannot have; undefined otherwise. */
function portProblem(raw: unknown): string | undefined {
  const port = typeof raw === "string" ? /^[^/]*:([0-9]+)$/.exec(raw)?.[1] : undefined;
  if (port === undefined || Number(port) <= 65535) return undefined;
  return `port ${port} is out of range in ${shown(raw)}: TCP ports go from 1 to 65535`;
}

/** Hides the password of a URL so messages and logs can show the rest. */
export function redactUrl(text: string): string {
  return text.replace(/^([a-z]+:\/\/[^:@/]*:)[^@/]*@/i, "$1<redacted>@");
}

/** The global level of a LOG_LEVEL / RUST_LOG value (`info,foo=warn` → info; `spoa=debug` → debug). */
export function logLevelOf(text: string): LogLevel | undefined {
  const directives = text.split(",").map((d) => d.trim().toLowerCase()).filter((d) => d !== "");
  const global = directives.find((d) => !d.includes("="));
  const chosen = global ?? directives.map((d) => d.slice(d.indexOf("=") + 1))[0];
  return LOG_LEVELS.find((level) => level === chosen);
}

/** Parses a raw value by kind; `raw` is a string for flags/env and YAML-typed for the file. */
export function parseValue(raw: unknown, kind: FieldKind): Parsed {
  switch (kind.type) {
    case "int": return parseInt(raw, kind);
    case "string": case "secret": case "path": {
      if (typeof raw !== "string" || raw === "") return fail(`expected ${kind.type === "path" ? "a file path" : "a non-empty string"}, got ${kind.type === "secret" ? "a non-string" : shown(raw)}`);
      if (kind.type === "string" && kind.pattern !== undefined && !kind.pattern.test(raw)) return fail(`expected ${kindText(kind)}, got ${shown(raw)}`);
      return ok(raw);
    }
    case "bool": {
      if (typeof raw === "boolean") return ok(raw);
      // Env vars and flags are text: every spelling people use for a switch is accepted.
      const word = typeof raw === "string" ? raw.trim().toLowerCase() : raw;
      if (word === "true" || word === "1" || word === "yes" || word === "on") return ok(true);
      if (word === "false" || word === "0" || word === "no" || word === "off") return ok(false);
      return fail(`expected true or false (also 1/0, yes/no, on/off), got ${shown(raw)}`);
    }
    case "enum":
      return typeof raw === "string" && kind.values.includes(raw) ? ok(raw) : fail(`expected ${kindText(kind)}, got ${shown(raw)}`);
    case "list": {
      const items = splitList(raw);
      if (items === undefined) return fail(`expected ${kindText(kind)}, got ${shown(raw)}`);
      const values: string[] = [];
      const failures: Extract<Parsed, { ok: false }>[] = [];
      for (const item of items) {
        const parsed = parseListItem(item, kind);
        if (parsed.ok) values.push(parsed.value as string);
        else failures.push(parsed);
      }
      // Every bad item at once: fixing a list one rerun at a time is tedious.
      if (failures.length > 0) return fail(failures.map((f) => f.message).join("; "), failures[0].fix);
      return ok(values);
    }
    case "url": return parseUrl(raw);
    case "listen":
      return typeof raw === "string" && parseListenAddress(raw) !== undefined
        ? ok(raw)
        : fail(portProblem(raw) ?? `expected ${kindText(kind)}, got ${shown(raw)}`, `for example "127.0.0.1:12345", "[::1]:12345" or "unix:/run/spoa/spoa.sock"`);
    case "metrics": {
      if (raw === "off" || raw === false) return ok("off");
      return typeof raw === "string" && parseHostPort(raw) !== undefined
        ? ok(raw)
        : fail(portProblem(raw) ?? `expected ${kindText(kind)}, got ${shown(raw)}`, `for example "127.0.0.1:12346", "0.0.0.0:12346" or "off"`);
    }
    case "workers": {
      if (raw === "auto") return ok(0);
      const parsed = parseInt(raw, { type: "int", min: 1, max: 1024 });
      return parsed.ok ? parsed : fail(`expected ${kindText(kind)}, got ${shown(raw)}`);
    }
    case "mode": {
      if (typeof raw === "string" && /^0?[0-7]{3}$/.test(raw)) return ok(Number.parseInt(raw, 8));
      return fail(`expected ${kindText(kind)}, got ${shown(raw)}`, typeof raw === "number" ? `quote it so YAML keeps it octal: socketMode: "0${raw}"` : undefined);
    }
    case "log-level": {
      const level = typeof raw === "string" ? logLevelOf(raw) : undefined;
      return level === undefined ? fail(`expected one of ${kindText(kind)}, got ${shown(raw)}`) : ok(level);
    }
  }
}
