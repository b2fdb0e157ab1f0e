/**
 * HTTP for /metrics, /healthz, /readyz under Deno, with Deno's own server (`Deno.serve`;
 * its `reusePort` is stable, unlike `Deno.listen`'s).
 * @module
 */
import type { ListenAddress } from "../agent/transport.ts";
import type { HttpHandler, Listener } from "./types.ts";
import { denoGlobal } from "./deno-api.ts";
import { describeAddress, listenFailed } from "./listen-address.ts";
import { applySocketMode, clearStaleSocket } from "./unix-path.ts";

/** Serves `handler` on `address`; the Listener reports the real port. */
export async function serveHttp(address: ListenAddress, handler: HttpHandler): Promise<Listener> {
  const Deno = denoGlobal();
  if (address.kind === "unix") clearStaleSocket(address.path);
  // An onListen keeps Deno from printing "Listening on …" to stdout.
  const onListen = () => {};
  let server;
  try {
    server = address.kind === "tcp"
      ? Deno.serve({ hostname: address.hostname, port: address.port, reusePort: address.reusePort, onListen }, handler)
      : Deno.serve({ path: address.path, onListen }, handler);
  } catch (cause) {
    throw listenFailed(address, cause);
  }
  if (address.kind === "unix") applySocketMode(address.path, address.mode);
  const port = server.addr.transport === "tcp" ? server.addr.port : 0;
  return { address: describeAddress(address, port), port, close: () => server.shutdown() };
}
