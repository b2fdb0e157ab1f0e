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
 *
 * @param name The runtime whose adapter to load; default the one running this code.
 * @returns The socket and HTTP adapter of that runtime.
 *
 * @example Serve /metrics with whichever runtime runs this
 * ```ts
 * import { runtimeAdapter } from "@spoa-gcra/spoa-gcra/serve";
 *
 * const adapter = await runtimeAdapter();
 * const server = await adapter.serveHttp({ kind: "tcp", hostname: "127.0.0.1", port: 0 }, () => new Response("up 1\n"));
 * const body = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
 * console.assert(adapter.name === "bun" && body === "up 1\n");
 * await server.close();
 * ```
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
