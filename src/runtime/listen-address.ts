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

/** A bind failure: which address, and the errno name the runtime reported. */
export class ListenError extends RuntimeAdapterError {
  /** "127.0.0.1:12345", "[::1]:9100" or "unix:/path". */
  readonly address: string;
  /** The errno name (`EADDRINUSE`, `EACCES`, `EADDRNOTAVAIL`, `ENOENT` …), when the runtime said. */
  readonly errno?: string;
  /** What went wrong in words ("address already in use"). */
  readonly reason: string;

  constructor(address: string, errno: string | undefined, options: { readonly cause: unknown }) {
    const reason = errno === undefined ? String(options.cause) : (ERRNO_TEXT[errno] ?? "system error");
    super("listen-failed", `Cannot listen on ${address}: ${reason}${errno === undefined ? "" : ` (${errno})`}`, options);
    this.address = address;
    this.reason = reason;
    if (errno !== undefined) this.errno = errno;
  }
}

const ERRNO_TEXT: Readonly<Record<string, string>> = {
  EADDRINUSE: "address already in use",
  EADDRNOTAVAIL: "address not available on this host",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  ENOENT: "no such file or directory",
  ENOTDIR: "a path component is not a directory",
  EROFS: "read-only file system",
};

// Deno's error classes, for a Deno that sets no `code` (engineering-notes D6).
const DENO_CLASS_ERRNO: Readonly<Record<string, string>> = {
  AddrInUse: "EADDRINUSE",
  AddrNotAvailable: "EADDRNOTAVAIL",
  PermissionDenied: "EACCES",
  NotFound: "ENOENT",
};

/** The errno name of a bind failure: `code` under Bun, Node and Deno 2, else Deno's class name. */
export function errnoOf(cause: unknown): string | undefined {
  if (!(cause instanceof Error)) return undefined;
  const code = (cause as { code?: unknown }).code;
  if (typeof code === "string" && /^E[A-Z]+$/.test(code)) return code;
  return DENO_CLASS_ERRNO[cause.name];
}

/** Wraps a runtime's bind failure (EADDRINUSE, EACCES…) with the address it was for. */
export function listenFailed(address: ListenAddress, cause: unknown): ListenError {
  const where = describeAddress(address, address.kind === "tcp" ? address.port : 0);
  return new ListenError(where, errnoOf(cause), { cause });
}
