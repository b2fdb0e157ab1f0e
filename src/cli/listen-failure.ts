/**
 * What `serve` says when it cannot bind its SPOP or metrics address: one line with the
 * address, the errno and what to do, so a taken port reads like a message, not a crash.
 * @module
 */
import { ListenError } from "../runtime/listen-address.ts";

/** Which of the agent's listeners failed; it decides which flag and variable the fix names. */
export type ListenRole = "SPOP" | "metrics";

const SETTING: Readonly<Record<ListenRole, string>> = {
  SPOP: "--listen / SPOE_ADDR",
  metrics: "--metrics / METRICS_ADDR (or off)",
};

/** A listener of the agent could not bind; `serve` prints `summary()` and exits 1. */
export class ListenFailure extends Error {
  override readonly name = "ListenFailure";
  readonly role: ListenRole;
  readonly error: ListenError;

  constructor(role: ListenRole, error: ListenError) {
    super(`cannot listen on ${error.address} for ${role}`, { cause: error });
    this.role = role;
    this.error = error;
  }

  /** The one line for stderr (without the program name). */
  summary(): string {
    const { address, errno, reason } = this.error;
    return `cannot listen on ${address} for ${this.role}: ${reason}${errno === undefined ? "" : ` (${errno})`} — ${advice(this.role, address, errno)}`;
  }
}

function portOf(address: string): string | undefined {
  return /:(\d+)$/.exec(address)?.[1];
}

function advice(role: ListenRole, address: string, errno: string | undefined): string {
  const elsewhere = `set another address with ${SETTING[role]}`;
  const unix = address.startsWith("unix:");
  switch (errno) {
    case "EADDRINUSE": {
      const port = portOf(address);
      const who = port === undefined ? "" : ` (ss -ltnp 'sport = :${port}' shows which)`;
      return `another process listens there${who}; stop it, or ${elsewhere}`;
    }
    case "EADDRNOTAVAIL":
      return `no interface of this host has that IP; use 127.0.0.1, 0.0.0.0 or one of the host's addresses, or ${elsewhere}`;
    case "EACCES": case "EPERM":
      return unix
        ? `this user may not create the socket file there; fix the directory's permissions, or ${elsewhere}`
        : `ports below 1024 need root or CAP_NET_BIND_SERVICE; use a port of 1024 or more, or ${elsewhere}`;
    case "ENOENT": case "ENOTDIR":
      return `the socket's directory does not exist; create it, or ${elsewhere}`;
    default:
      return `check the address, or ${elsewhere}`;
  }
}

/** For `.catch()` on a listen call: turns the adapter's ListenError into a ListenFailure for `role`. */
export function asListenFailure(role: ListenRole): (error: unknown) => never {
  return (error) => {
    throw error instanceof ListenError ? new ListenFailure(role, error) : error;
  };
}
