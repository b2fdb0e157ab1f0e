/**
 * Outbound TCP for the Valkey store's lean script path (src/ratelimit/valkey/pipeline/dial.ts
 * has the same shape): Bun and Deno dial with their own sockets (Bun.connect, Deno.connect), as
 * their SPOP listeners do (engineering-notes §3); on Node the store's own node:net dialer is it.
 * @module
 */
import { detectRuntime } from "./detect.ts";
import type { OutboundDialer } from "./dial-types.ts";
import type { RuntimeName } from "./types.ts";

export type { OutboundDialer, OutboundSink, OutboundSocket } from "./dial-types.ts";

/** The dialer of `name` (default: the runtime running this code); undefined on Node (the store's node:net). */
export async function loadDialer(name: RuntimeName = detectRuntime()): Promise<OutboundDialer | undefined> {
  switch (name) {
    case "bun":
      return (await import("./bun-dial.ts")).bunDial;
    case "deno":
      return (await import("./deno-dial.ts")).denoDial;
    case "node":
      return undefined;
  }
}
