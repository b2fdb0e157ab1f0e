/**
 * HTTP for /metrics, /healthz, /readyz under Bun, with Bun's own server (`Bun.serve`).
 * @module
 */
import type { ListenAddress } from "../agent/transport.ts";
import type { HttpHandler, Listener } from "./types.ts";
import { bunGlobal } from "./bun-api.ts";
import { describeAddress, listenFailed } from "./listen-address.ts";
import { applySocketMode, clearStaleSocket } from "./unix-path.ts";

/** Serves `handler` on `address`; the Listener reports the real port. */
export async function serveHttp(address: ListenAddress, handler: HttpHandler): Promise<Listener> {
  const Bun = bunGlobal();
  if (address.kind === "unix") clearStaleSocket(address.path);
  let server;
  try {
    server = address.kind === "tcp"
      ? Bun.serve({ hostname: address.hostname, port: address.port, reusePort: address.reusePort, fetch: handler })
      : Bun.serve({ unix: address.path, fetch: handler });
  } catch (cause) {
    throw listenFailed(address, cause);
  }
  if (address.kind === "unix") applySocketMode(address.path, address.mode);
  const port = server.port ?? 0;
  return {
    address: describeAddress(address, port),
    port,
    close: async () => {
      await server.stop(false);
    },
  };
}
