/**
 * Serve an agent on the runtime that runs it: `serve()` detects Bun, Deno or Node and loads
 * only that runtime's socket adapter, so one entry point runs everywhere. Use a runtime entry
 * (`/bun`, `/deno`, `/node`) to fix the runtime at build time; `runtimeAdapter()` gives this
 * runtime's adapter for anything else (an HTTP endpoint for metrics, say), and `clock` and
 * `timers` are the host's, as in every runtime entry.
 *
 * @example Serve a handler wherever this runs
 * ```ts
 * import { setVar } from "@spoa-gcra/spoa-gcra";
 * import { serve } from "@spoa-gcra/spoa-gcra/serve";
 *
 * const served = await serve({
 *   handler: { handle: () => [setVar("txn", "seen", true)], failureActions: () => [] },
 *   address: { kind: "tcp", hostname: "127.0.0.1", port: 0 },
 * });
 * console.assert(["bun", "deno", "node"].includes(served.runtime));
 * await served.close();
 * ```
 * @module
 */
export { serve, type ServedAgent, type ServeOptions } from "../src/runtime/serve.ts";
export { loadAdapter as runtimeAdapter } from "../src/runtime/detect.ts";
export { systemClock as clock, systemTimers as timers } from "../src/runtime/host-time.ts";
export type { AcceptHandler, HttpHandler, Listener, ListenOptions, RuntimeAdapter, RuntimeName } from "../src/runtime/types.ts";
