/**
 * The spop-protocol.md §11 vectors the engine tests compare against, taken from the shared
 * fixtures module by name.
 * @module
 */
import { VECTORS, vectorNamed } from "../fixtures/spop-vectors.ts";

function named(name: string): Uint8Array {
  const v = VECTORS.find((x) => x.name === name);
  if (v === undefined) throw new Error(`No SPOP vector named ${name}`);
  return v.bytes;
}

/** HAPROXY-HELLO from 3.1+ at runtime (pipelining). */
export const V1 = vectorNamed("V1").bytes;
/** HAPROXY-HELLO from 2.x (pipelining,async). */
export const V1B = vectorNamed("V1b").bytes;
/** Health-check HAPROXY-HELLO. */
export const V2 = vectorNamed("V2").bytes;
/** AGENT-HELLO 2.0, 16380, pipelining. */
export const V3 = vectorNamed("V3").bytes;
/** AGENT-HELLO 2.0, 16380, no capabilities. */
export const V4B = vectorNamed("V4b").bytes;
/** NOTIFY sid 1 fid 1, rate-limit(ip_src=192.0.2.10, path=/api/v1). */
export const V5 = named("V5 NOTIFY rate-limit sid 1");
/** The V5 payload with classic ids: stream-id 4242, frame-id 1. */
export const V5_CLASSIC = named("V5 NOTIFY rate-limit sid 4242 (classic)");
/** HAPROXY-DISCONNECT status 0 "normal". */
export const V12 = vectorNamed("V12").bytes;
/** AGENT-DISCONNECT status 0 "normal". */
export const V14 = vectorNamed("V14").bytes;
