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

/** A minimal HTTP handler for /metrics, /healthz, /readyz. */
export type HttpHandler = (request: Request) => Response | Promise<Response>;

/** The adapter surface; one implementation per runtime. */
export interface RuntimeAdapter {
  readonly name: RuntimeName;
  /** Listen for SPOP connections. */
  listenSpop(address: ListenAddress, accept: AcceptHandler): Promise<Listener>;
  /** Serve HTTP with the runtime's own server. */
  serveHttp(address: ListenAddress, handler: HttpHandler): Promise<Listener>;
}
