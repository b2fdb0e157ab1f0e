/**
 * Merges the source layers field by field: flags > env > file > defaults.
 * @module
 */
import type { IssueSink } from "./errors.ts";
import { FIELDS, type FieldValue } from "./fields.ts";
import type { Layer } from "./sources.ts";
import { parseValue } from "./values.ts";

/** Resolved field values with the label of the source each came from. */
export interface Resolved {
  get<T extends FieldValue>(key: string): T;
  getOptional<T extends FieldValue>(key: string): T | undefined;
  /** The label of the source that set `key` (`--listen`, `env VALKEY_URL`, `store.valkey.url`), or undefined for a default. */
  labelOf(key: string): string | undefined;
  /** 0 default / absent, 1 file, 2 env, 3 flag. */
  rankOf(key: string): number;
}

/** Parses every field from every layer (weakest first); the strongest valid value wins, every invalid one is reported. */
export function resolve(layers: readonly Layer[], sink: IssueSink): Resolved {
  const values = new Map<string, { value: FieldValue; label?: string; rank: number }>();
  for (const spec of FIELDS) {
    if (spec.default !== undefined) values.set(spec.key, { value: spec.default, rank: 0 });
    layers.forEach((layer, i) => {
      const raw = layer.get(spec.key);
      if (raw === undefined) return;
      const parsed = parseValue(raw.raw, spec.kind);
      if (parsed.ok) values.set(spec.key, { value: parsed.value, label: raw.label, rank: i + 1 });
      else sink.add(raw.label, parsed.message, parsed.fix);
    });
  }
  return {
    get: <T extends FieldValue>(key: string) => values.get(key)?.value as T,
    getOptional: <T extends FieldValue>(key: string) => values.get(key)?.value as T | undefined,
    labelOf: (key) => values.get(key)?.label,
    rankOf: (key) => values.get(key)?.rank ?? 0,
  };
}
