/**
 * Reads the three sources — file, env, flags — into raw per-field values, each labelled with
 * where it came from, so a bad value is reported as `store.valkey.db`, `env VALKEY_URL` or `--listen`.
 * @module
 */
import { type IssueSink, shown } from "./errors.ts";
import { FIELDS, type FieldSpec } from "./fields.ts";
import { isRecord } from "./match.ts";
import { closest } from "./suggest.ts";

/** A value as written, with the label that names its source in messages. */
export interface RawValue {
  readonly raw: unknown;
  readonly label: string;
}

/** Raw values of one source by field key. */
export type Layer = ReadonlyMap<string, RawValue>;

type Tree = Map<string, Tree | FieldSpec | "limits">;

function buildTree(): Tree {
  const root: Tree = new Map([["limits", "limits"]]);
  for (const spec of FIELDS) {
    if (!spec.inFile) continue;
    const parts = spec.key.split(".");
    let node = root;
    for (const part of parts.slice(0, -1)) {
      let next = node.get(part);
      if (next === undefined) node.set(part, (next = new Map()));
      node = next as Tree;
    }
    node.set(parts[parts.length - 1], spec);
  }
  return root;
}
const TREE = buildTree();
const ALL_FILE_KEYS = FIELDS.filter((f) => f.inFile).map((f) => f.key);

function unknownKey(path: string, key: string, siblings: readonly string[], sink: IssueSink): void {
  const at = path === "" ? key : `${path}.${key}`;
  if (key === "password" && path === "store.valkey") {
    sink.add(at, "a password may not be written in the config file", "use passwordFile (a mounted secret) or the VALKEY_PASSWORD env var");
    return;
  }
  const near = closest(key, siblings);
  const lastSegment = near === undefined ? closest(key, ALL_FILE_KEYS.map((k) => k.slice(k.lastIndexOf(".") + 1))) : undefined;
  const elsewhere = lastSegment === undefined ? undefined : ALL_FILE_KEYS.find((k) => k === lastSegment || k.endsWith(`.${lastSegment}`));
  const fix = near !== undefined
    ? `did you mean "${near}"?`
    : elsewhere !== undefined
    ? `did you mean "${elsewhere}"?`
    : `known keys here: ${siblings.join(", ")}`;
  sink.add(at, `unknown key "${key}"`, fix);
}

function walk(node: Tree, value: Record<string, unknown>, path: string, out: { values: Map<string, RawValue>; limits?: unknown }, sink: IssueSink): void {
  const siblings = [...node.keys()];
  for (const [key, child] of Object.entries(value)) {
    const at = path === "" ? key : `${path}.${key}`;
    const spec = node.get(key);
    if (spec === undefined) unknownKey(path, key, siblings, sink);
    else if (child === null || child === undefined) continue;
    else if (spec === "limits") out.limits = child;
    else if (spec instanceof Map) {
      if (isRecord(child)) walk(spec, child, at, out, sink);
      else sink.add(at, `expected a map of ${[...spec.keys()].join(", ")}, got ${shown(child)}`);
    } else out.values.set(spec.key, { raw: child, label: at });
  }
}

/** The file's field values and its raw `limits` list (undefined when absent). */
export function fileLayer(document: unknown, sink: IssueSink): { readonly values: Layer; readonly limits?: unknown } {
  const out: { values: Map<string, RawValue>; limits?: unknown } = { values: new Map() };
  if (document === null || document === undefined) return out;
  if (!isRecord(document)) {
    sink.add("(file)", `expected a map of settings at the top level, got ${shown(document)}`);
    return out;
  }
  walk(TREE, document, "", out, sink);
  return out;
}

/** Values from env vars; for a field with several names (LOG_LEVEL, RUST_LOG) the first set one wins. Empty means unset. */
export function envLayer(env: Readonly<Record<string, string | undefined>>): Layer {
  const values = new Map<string, RawValue>();
  for (const spec of FIELDS) {
    for (const name of spec.env ?? []) {
      const raw = env[name];
      if (raw === undefined || raw.trim() === "") continue;
      values.set(spec.key, { raw: spec.kind.type === "secret" ? raw : raw.trim(), label: `env ${name}` });
      break;
    }
  }
  return values;
}

/** Values from flags (`--valkey-url` → store.valkey.url). */
export function flagLayer(flags: Readonly<Record<string, string | boolean | undefined>>): Layer {
  const values = new Map<string, RawValue>();
  for (const spec of FIELDS) {
    if (spec.flag === undefined) continue;
    const raw = flags[spec.flag];
    if (raw !== undefined) values.set(spec.key, { raw, label: `--${spec.flag}` });
  }
  return values;
}
