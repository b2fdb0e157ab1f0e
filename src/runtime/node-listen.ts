/**
 * Binding a `node:net` or `node:http` server, shared by the Node adapter's SPOP and HTTP sides.
 * @module
 */
import type { Server } from "node:net";
import { versions } from "node:process";
import { RuntimeAdapterError } from "./errors.ts";
import { describeAddress, listenFailed } from "./listen-address.ts";
import type { ListenAddress } from "../agent/transport.ts";
import type { Listener } from "./types.ts";
import { applySocketMode, clearStaleSocket } from "./unix-path.ts";

/** `reusePort` reached `net.Server.listen` in Node 22.12 and 23.1. */
function hasReusePort(): boolean {
  const [major = 0, minor = 0] = versions.node.split(".").map(Number);
  return major > 22 || (major === 22 && minor >= 12);
}

/** Binds `server` to `address`; resolves once listening, rejects with the bind error. */
export function bind(server: Server, address: ListenAddress): Promise<void> {
  if (address.kind === "tcp" && address.reusePort && !hasReusePort()) {
    return Promise.reject(new RuntimeAdapterError(
      "reuse-port-unavailable",
      `Cannot listen with reusePort under Node ${versions.node}: it needs Node 22.12 or later; upgrade or drop reusePort`,
    ));
  }
  if (address.kind === "unix") clearStaleSocket(address.path);
  return new Promise<void>((resolve, reject) => {
    const failed = (cause: Error) => reject(listenFailed(address, cause));
    server.once("error", failed);
    const options = address.kind === "unix"
      ? { path: address.path }
      : { host: address.hostname, port: address.port, ...(address.reusePort ? { reusePort: true } : {}) };
    server.listen(options, () => {
      server.off("error", failed);
      if (address.kind === "unix") applySocketMode(address.path, address.mode);
      resolve();
    });
  });
}

/** The bound address of a listening server as a Listener that stops accepting on close(). */
export function listenerOf(server: Server, address: ListenAddress, stop: () => void): Listener {
  const bound = server.address();
  const port = typeof bound === "object" && bound !== null ? bound.port : 0;
  return {
    address: describeAddress(address, port),
    port,
    close: async () => {
      stop();
      if (address.kind === "unix") clearStaleSocket(address.path);
    },
  };
}
