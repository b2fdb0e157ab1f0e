/**
 * Unix socket path housekeeping shared by both adapters: a stale socket file left by a crash
 * blocks bind(2), but a regular file at that path is someone's data and must never be removed.
 * @module
 */
import { chmodSync, lstatSync, unlinkSync } from "node:fs";
import { RuntimeAdapterError } from "./errors.ts";

/** Removes a stale socket at `path`; throws if something other than a socket is there. */
export function clearStaleSocket(path: string): void {
  let stat;
  try {
    stat = lstatSync(path);
  } catch (error) {
    if ((error as { code?: unknown }).code === "ENOENT") return;
    throw error;
  }
  if (!stat.isSocket()) {
    throw new RuntimeAdapterError(
      "unix-path-not-socket",
      `Cannot listen on unix socket ${path}: the path exists and is not a socket; remove it or choose another path`,
    );
  }
  unlinkSync(path);
}

/** Applies the configured permission bits (e.g. 0o660) to a freshly bound socket. */
export function applySocketMode(path: string, mode: number | undefined): void {
  if (mode !== undefined) chmodSync(path, mode);
}
