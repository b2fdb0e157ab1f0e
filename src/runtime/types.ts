/**
 * What a runtime adapter (Bun, Deno) provides to the composition root.
 * @module
 */
import type { ConnectionPort, ListenAddress, Transport } from "../agent/transport.ts";

/**
 * The runtimes we run on.
 *
 * @example Name the runtime
 * ```ts
 * import { adapter, type RuntimeName } from "@spoa-gcra/spoa-gcra/bun";
 *
 * const name: RuntimeName = adapter.name;
 * console.assert(name === "bun");
 * ```
 */
export type RuntimeName = "bun" | "deno" | "node";

/**
 * A bound listener.
 *
 * @example Where did port 0 land?
 * ```ts
 * import { adapter } from "@spoa-gcra/spoa-gcra/bun";
 * import type { Listener } from "@spoa-gcra/spoa-gcra/bun";
 *
 * const noop = { receive() {}, drained() {}, closed() {} };
 * const listener: Listener = await adapter.listenSpop({ kind: "tcp", hostname: "127.0.0.1", port: 0 }, () => noop);
 * console.assert(listener.port > 0 && listener.address === `127.0.0.1:${listener.port}`);
 * await listener.close();
 * ```
 */
export interface Listener {
  /** The bound address as text: "127.0.0.1:12345" (the real port when 0 was asked) or "unix:/path". */
  readonly address: string;
  /** The bound TCP port, or 0 for a unix socket. */
  readonly port: number;
  /** Stop accepting; open connections are left alone. */
  close(): Promise<void>;
}

/**
 * Called once per accepted socket; returns the engine's side of it.
 *
 * @example Hand sockets to an Agent
 * ```ts
 * import { Agent } from "@spoa-gcra/spoa-gcra";
 * import { type AcceptHandler, timers } from "@spoa-gcra/spoa-gcra/bun";
 *
 * const agent = new Agent({ handler: { handle: () => [], failureActions: () => [] }, timers });
 * const accept: AcceptHandler = (transport) => agent.accept(transport);
 * console.assert(typeof accept === "function");
 * ```
 */
export type AcceptHandler = (transport: Transport) => ConnectionPort;

/**
 * Options of listenSpop.
 *
 * @example Count accept failures (EMFILE …)
 * ```ts
 * import { adapter, type ListenOptions } from "@spoa-gcra/spoa-gcra/bun";
 *
 * let failures = 0;
 * const options: ListenOptions = { onAcceptError: () => failures++ };
 * const noop = { receive() {}, drained() {}, closed() {} };
 * const listener = await adapter.listenSpop({ kind: "tcp", hostname: "127.0.0.1", port: 0 }, () => noop, options);
 * console.assert(failures === 0);
 * await listener.close();
 * ```
 */
export interface ListenOptions {
  /** An accept failed; the listener keeps accepting (after a short back-off where needed). */
  readonly onAcceptError?: (error: unknown) => void;
}

/**
 * A minimal HTTP handler for /metrics, /healthz, /readyz.
 *
 * @example A health endpoint
 * ```ts
 * import { adapter, type HttpHandler } from "@spoa-gcra/spoa-gcra/bun";
 *
 * const health: HttpHandler = (request) =>
 *   new URL(request.url).pathname === "/healthz" ? new Response("ok") : new Response("not found", { status: 404 });
 * const server = await adapter.serveHttp({ kind: "tcp", hostname: "127.0.0.1", port: 0 }, health);
 * const response = await fetch(`http://${server.address}/healthz`);
 * console.assert(response.status === 200 && (await response.text()) === "ok");
 * await server.close();
 * ```
 */
export type HttpHandler = (request: Request) => Response | Promise<Response>;

/**
 * The adapter surface; one implementation per runtime.
 *
 * @example Pick the adapter of the runtime you are on
 * ```ts
 * import type { RuntimeAdapter } from "@spoa-gcra/spoa-gcra/bun";
 *
 * const runtime: { adapter: RuntimeAdapter } = "Bun" in globalThis
 *   ? await import("@spoa-gcra/spoa-gcra/bun")
 *   : "Deno" in globalThis
 *   ? await import("@spoa-gcra/spoa-gcra/deno")
 *   : await import("@spoa-gcra/spoa-gcra/node");
 * console.assert(["bun", "deno", "node"].includes(runtime.adapter.name));
 * ```
 */
export interface RuntimeAdapter {
  readonly name: RuntimeName;
  /**
   * Listen for SPOP connections. `onAcceptError` hears accept failures the runtime reports
   * (EMFILE, ENFILE …); Bun retries them inside its event loop and reports nothing.
   */
  listenSpop(address: ListenAddress, accept: AcceptHandler, options?: ListenOptions): Promise<Listener>;
  /** Serve HTTP with the runtime's own server. */
  serveHttp(address: ListenAddress, handler: HttpHandler): Promise<Listener>;
}
