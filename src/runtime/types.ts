/**
 * What a runtime adapter (Bun, Deno) provides to the composition root.
 * @module
 */
import type { ConnectionPort, ListenAddress, Transport } from "../agent/transport.ts";

/** The runtimes we run on. */
export type RuntimeName = "bun" | "deno" | "node";

/** A bound listener. */
export interface Listener {
  /** The bound address as text: "127.0.0.1:12345" (the real port when 0 was asked) or "unix:/path". */
  readonly address: string;
  /** The bound TCP port, or 0 for a unix socket. */
  readonly port: number;
  /** Stop accepting; open connections are left alone. */
  close(): Promise<void>;
}

/** Called once per accepted socket; returns the engine's side of it. */
export type AcceptHandler = (transport: Transport) => ConnectionPort;

/** Options of listenSpop. */
export interface ListenOptions {
  /** An accept failed; the listener keeps accepting (after a short back-off where needed). */
  readonly onAcceptError?: (error: unknown) => void;
}

/** A minimal HTTP handler for /metrics, /healthz, /readyz. */
export type HttpHandler = (request: Request) => Response | Promise<Response>;

/** The adapter surface; one implementation per runtime. */
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
