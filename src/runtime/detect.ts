/**
 * Picks the runtime adapter. The one place that knows which runtime we are on
 * (engineering-notes §1.4, §3 "Detecting the runtime").
 * @module
 */
import type { RuntimeAdapter, RuntimeName } from "./types.ts";
import { RuntimeAdapterError } from "./errors.ts";

/** The runtime executing this code: Bun first (it also defines `process`), then Deno, then Node. */
export function detectRuntime(): RuntimeName {
  const global = globalThis as { Bun?: unknown; Deno?: unknown };
  if (typeof global.Bun !== "undefined") return "bun";
  if (typeof global.Deno !== "undefined") return "deno";
  return "node";
}

/**
 * Loads the adapter for `name` (default: the detected runtime). Literal `import()` paths let
 * `bun build --compile` bundle both; both files parse on either runtime (structural types, no
 * top-level runtime calls), and only the chosen adapter's functions ever run.
 * @throws {RuntimeAdapterError} under Node, which has no adapter yet.
 */
export async function loadAdapter(name: RuntimeName = detectRuntime()): Promise<RuntimeAdapter> {
  switch (name) {
    case "bun":
      return (await import("./bun.ts")).bunAdapter;
    case "deno":
      return (await import("./deno.ts")).denoAdapter;
    case "node":
      throw new RuntimeAdapterError("unsupported-runtime", "Cannot run under Node: use Bun or Deno");
  }
}
