/**
 * Picks the runtime adapter. The one place that knows which runtime we are on
 * (engineering-notes §1.4, §3 "Detecting the runtime").
 * @module
 */
import type { RuntimeAdapter, RuntimeName } from "./types.ts";

/** The runtime executing this code: Bun first (it also defines `process`), then Deno, then Node. */
export function detectRuntime(): RuntimeName {
  const global = globalThis as { Bun?: unknown; Deno?: unknown };
  if (typeof global.Bun !== "undefined") return "bun";
  if (typeof global.Deno !== "undefined") return "deno";
  return "node";
}

/**
 * Loads the adapter for `name` (default: the detected runtime). Literal `import()` paths let
 * `bun build --compile` bundle all three; each file parses on any runtime (structural types, no
 * top-level runtime calls), and only the chosen adapter's functions ever run.
 */
export async function loadAdapter(name: RuntimeName = detectRuntime()): Promise<RuntimeAdapter> {
  switch (name) {
    case "bun":
      return (await import("./bun.ts")).bunAdapter;
    case "deno":
      return (await import("./deno.ts")).denoAdapter;
    case "node":
      return (await import("./node.ts")).nodeAdapter;
  }
}
