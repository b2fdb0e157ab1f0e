/**
 * The cluster hash slot of a key (CRC16/XMODEM of its hash tag, mod 16384), as Valkey computes
 * it: which primary a decision goes to, so each primary can have its own circuit breaker.
 * @module
 */
import { hashTagOf } from "../identity/keys.ts";

const TABLE = new Uint16Array(256);
for (let i = 0; i < 256; i++) {
  let crc = i << 8;
  for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  TABLE[i] = crc;
}

/** Number of hash slots in a Valkey cluster. */
export const SLOTS = 16384;

/** The hash slot of `key` (its UTF-8 bytes, like the server). */
export function keySlot(key: string): number {
  const bytes = new TextEncoder().encode(hashTagOf(key));
  let crc = 0;
  for (const byte of bytes) crc = ((crc << 8) & 0xffff) ^ TABLE[((crc >> 8) ^ byte) & 0xff];
  return crc % SLOTS;
}
