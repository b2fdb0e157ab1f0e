/**
 * Address text and listen errors shared by both adapters, so logs read the same on either runtime.
 * @module
 */
import { RuntimeAdapterError } from "./errors.ts";
import type { ListenAddress } from "../agent/transport.ts";

/** "127.0.0.1:12345", "[::1]:12345" or "unix:/path", with the bound port. */
export function describeAddress(address: ListenAddress, port: number): string {
  if (address.kind === "unix") return `unix:${address.path}`;
  return address.hostname.includes(":") ? `[${address.hostname}]:${port}` : `${address.hostname}:${port}`;
}

/** Wraps a runtime's bind failure (EADDRINUSE, EACCES…) with the address it was for. */
export function listenFailed(address: ListenAddress, cause: unknown): RuntimeAdapterError {
  const where = describeAddress(address, address.kind === "tcp" ? address.port : 0);
  return new RuntimeAdapterError("listen-failed", `Cannot listen on ${where}: ${String(cause)}`, { cause });
}
