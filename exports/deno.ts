/**
 * The Deno runtime for a spoa-gcra agent: the socket adapter that puts accepted SPOP
 * connections behind the engine's Transport (plus a small HTTP server for probes), and the
 * host clock and timers the pure core is given. Every runtime entry exports the same names,
 * so an agent can pick one at start-up and use it the same way.
 *
 * @example Serve an agent on Deno
 * ```ts
 * import { Agent, setVar } from "@spoa-gcra/spoa-gcra";
 * import { adapter, timers } from "@spoa-gcra/spoa-gcra/deno";
 *
 * const agent = new Agent({ handler: { handle: () => [setVar("txn", "ok", true)], failureActions: () => [] }, timers });
 * const listener = await adapter.listenSpop({ kind: "tcp", hostname: "127.0.0.1", port: 0 }, (t) => agent.accept(t));
 * console.assert(listener.port > 0);
 * await agent.drain();
 * await listener.close();
 * ```
 * @module
 */
import { denoAdapter } from "../src/runtime/deno.ts";
import type { RuntimeAdapter } from "../src/runtime/types.ts";

export type { AcceptHandler, HttpHandler, Listener, ListenOptions, RuntimeAdapter, RuntimeName } from "../src/runtime/types.ts";
export { RuntimeAdapterError, type RuntimeErrorCode } from "../src/runtime/errors.ts";
export { systemClock as clock, systemTimers as timers } from "../src/runtime/host-time.ts";

/**
 * The Deno socket adapter: `listenSpop` for HAProxy's SPOP connections, `serveHttp` for
 * /metrics-style endpoints.
 *
 * @example Listen for HAProxy on a unix socket
 * ```ts
 * import { Agent, setVar } from "@spoa-gcra/spoa-gcra";
 * import { adapter, timers } from "@spoa-gcra/spoa-gcra/deno";
 *
 * const agent = new Agent({ handler: { handle: () => [setVar("txn", "ok", true)], failureActions: () => [] }, timers });
 * const path = `/tmp/spoa-example-${Math.random().toString(36).slice(2)}.sock`;
 * const listener = await adapter.listenSpop({ kind: "unix", path, mode: 0o660 }, (t) => agent.accept(t));
 * console.assert(listener.address === `unix:${path}`);
 * await listener.close();
 * ```
 */
export const adapter: RuntimeAdapter = denoAdapter;
