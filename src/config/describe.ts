/**
 * How fields are shown to people: flag placeholders and default values, shared by help and docs.
 * @module
 */
import type { FieldKind, FieldValue } from "./fields.ts";

/** The placeholder shown after a flag (`--listen ADDR`). */
export function placeholder(kind: FieldKind): string {
  switch (kind.type) {
    case "int": return { microseconds: "US", milliseconds: "MS", seconds: "SECONDS", bytes: "BYTES" }[kind.unit ?? ""] ?? "N";
    case "enum": return kind.values.join("|");
    case "list": return { cidr: "CIDR,...", url: "URL,...", "host-port": "HOST:PORT,...", name: "NAME,...", variable: "VAR,..." }[kind.item];
    case "listen": case "metrics": return "ADDR";
    case "path": return "FILE";
    case "url": return "URL";
    case "bool": return "true|false";
    case "workers": return "N|auto";
    case "mode": return "MODE";
    case "log-level": return "LEVEL";
    case "string": case "secret": return "TEXT";
  }
}

/** How a flag is written: `--listen ADDR`; a bool flag takes no value (`--admin`). */
export function flagText(flag: string, kind: FieldKind): string {
  return kind.type === "bool" ? `--${flag}` : `--${flag} ${placeholder(kind)}`;
}

/** A default value as help and docs show it. */
export function defaultText(value: FieldValue | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (Array.isArray(value)) return value.length === 0 ? "none" : value.join(",");
  return String(value);
}
