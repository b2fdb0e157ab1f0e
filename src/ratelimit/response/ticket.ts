/**
 * The response ticket: the opaque value the request's ACK sets (`txn.<p>.ticket`) and HAProxy
 * sends back in the response message. It carries everything the response phase needs — each
 * response-phase check's store key, GCRA parameters, estimate, whether it holds a lease, and
 * where the response's cost is — so the response's key is the request's key, never re-derived
 * from headers the client controls, and a policy reload between the phases changes nothing.
 *
 * Unforgeable by an HMAC-SHA-256 (truncated to 128 bits) under a secret shared by the agent
 * fleet (`SPOA_TICKET_SECRET`): any agent of the fleet, including one restarted between the
 * phases, can settle a ticket another one issued, and nobody without the secret can make one.
 * No server-side lookup: the ticket costs no store round trip and no memory.
 *
 * Form: `<payload>.<mac>`, both base64url; payload = UTF-8 JSON
 * `[1, leaseId, [[name, key, T, τ, postpaid 0|1, estimate, lease 0|1, costArg, costMax], …]]`.
 * @module
 */
import { fromBase64url, toBase64url } from "./base64url.ts";
import type { GcraParams } from "../store.ts";
import { hmacSha256 } from "./sha256.ts";

/**
 * What the response phase needs for one check of the request.
 *
 * @example A post-paid limit's entry
 * ```ts
 * import type { TicketEntry } from "@spoa-gcra/spoa-gcra";
 *
 * const entry: TicketEntry = {
 *   name: "tokens", key: "rl:{k}:tokens:1", params: { emissionIntervalUs: 600, burstToleranceUs: 0 },
 *   rate: "postpaid", estimate: 0, lease: false, costArg: "tokens", costMax: 1_000_000,
 * };
 * console.assert(entry.costArg === "tokens");
 * ```
 */
export interface TicketEntry {
  /** The limit's name (logs and metrics). */
  readonly name: string;
  readonly key: string;
  readonly params: GcraParams;
  readonly rate: "request" | "postpaid";
  readonly estimate: number;
  readonly lease: boolean;
  /** The response message's argument holding the actual cost ("" when the limit has none). */
  readonly costArg: string;
  /** Actual costs above this are bad input. */
  readonly costMax: number;
}

/**
 * A verified ticket.
 *
 * @example A ticket with no entries
 * ```ts
 * import type { Ticket } from "@spoa-gcra/spoa-gcra";
 *
 * const ticket: Ticket = { leaseId: "abc.1", entries: [] };
 * console.assert(ticket.entries.length === 0);
 * ```
 */
export interface Ticket {
  readonly leaseId: string;
  readonly entries: readonly TicketEntry[];
}

/** Bytes of MAC kept: 128 bits, as in RFC 2104's advice to keep at least half the hash. */
const MAC_BYTES = 16;
const VERSION = 1;
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * Seals and opens tickets under one secret.
 *
 * @example A ticket from another fleet is refused
 * ```ts
 * import { type TicketSealer, ticketSealer } from "@spoa-gcra/spoa-gcra";
 *
 * const ours: TicketSealer = ticketSealer(new TextEncoder().encode("our fleet's secret"));
 * const theirs = ticketSealer(new TextEncoder().encode("another fleet's one"));
 * console.assert(JSON.stringify(ours.open(theirs.seal({ leaseId: "x", entries: [] }))) === '{"refused":"forged"}');
 * ```
 */
export interface TicketSealer {
  /**
   * The ticket as the text HAProxy carries.
   * @param ticket The lease id and entries.
   * @returns `<payload>.<mac>`, base64url.
   */
  seal(ticket: Ticket): string;
  /**
   * The ticket, or why it was refused.
   * @param text What HAProxy sent back.
   * @returns The verified ticket, or `{ refused }`.
   */
  open(text: string): Ticket | { readonly refused: "malformed" | "forged" };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

const isInt = (v: unknown, min: number): v is number => typeof v === "number" && Number.isSafeInteger(v) && v >= min;

function entryOf(raw: unknown): TicketEntry | undefined {
  if (!Array.isArray(raw) || raw.length !== 9) return undefined;
  const [name, key, t, tau, postpaid, estimate, lease, costArg, costMax] = raw as unknown[];
  if (typeof name !== "string" || typeof key !== "string" || typeof costArg !== "string") return undefined;
  if (!isInt(t, 1) || !isInt(tau, 0) || !isInt(estimate, 0) || !isInt(costMax, 0)) return undefined;
  if ((postpaid !== 0 && postpaid !== 1) || (lease !== 0 && lease !== 1)) return undefined;
  return {
    name,
    key,
    params: { emissionIntervalUs: t, burstToleranceUs: tau },
    rate: postpaid === 1 ? "postpaid" : "request",
    estimate,
    lease: lease === 1,
    costArg,
    costMax,
  };
}

/**
 * Makes an HMAC-SHA-256 function for a key; the host may bring a faster one than the core's.
 *
 * @example node:crypto's HMAC
 * ```ts
 * import { createHmac } from "node:crypto";
 * import { type HmacFactory, ticketSealer } from "@spoa-gcra/spoa-gcra";
 *
 * const hmac: HmacFactory = (key) => (message) => new Uint8Array(createHmac("sha256", key).update(message).digest());
 * const sealer = ticketSealer(new TextEncoder().encode("a secret of 16+ bytes"), hmac);
 * console.assert(sealer.seal({ leaseId: "x", entries: [] }) === ticketSealer(new TextEncoder().encode("a secret of 16+ bytes")).seal({ leaseId: "x", entries: [] }));
 * ```
 */
export type HmacFactory = (key: Uint8Array) => (message: Uint8Array) => Uint8Array;

/**
 * A sealer keyed by `secret` (at least 16 bytes). `hmac` defaults to the core's plain
 * ECMAScript HMAC-SHA-256 (sha256.ts); the agent passes node:crypto's, several times faster.
 *
 * @param secret The fleet's key: the same on every agent that may see a response.
 * @param hmac The HMAC-SHA-256 implementation.
 * @returns The sealer.
 * @throws {RangeError} When the secret is shorter than 16 bytes.
 *
 * @example Seal and open
 * ```ts
 * import { ticketSealer } from "@spoa-gcra/spoa-gcra";
 *
 * const sealer = ticketSealer(new TextEncoder().encode("the fleet's secret"));
 * const text = sealer.seal({ leaseId: "abc.1", entries: [] });
 * console.assert(JSON.stringify(sealer.open(text)) === JSON.stringify({ leaseId: "abc.1", entries: [] }));
 * ```
 */
export function ticketSealer(secret: Uint8Array, hmac: HmacFactory = hmacSha256): TicketSealer {
  if (secret.length < 16) throw new RangeError(`Ticket secret too short: ${secret.length} bytes (want at least 16)`);
  const mac = hmac(secret);
  const macOf = (payload: string) => mac(encoder.encode(payload)).subarray(0, MAC_BYTES);
  return {
    seal(ticket) {
      const body = ticket.entries.map((e) => [
        e.name, e.key, e.params.emissionIntervalUs, e.params.burstToleranceUs, e.rate === "postpaid" ? 1 : 0, e.estimate, e.lease ? 1 : 0, e.costArg, e.costMax,
      ]);
      const payload = toBase64url(encoder.encode(JSON.stringify([VERSION, ticket.leaseId, body])));
      return `${payload}.${toBase64url(macOf(payload))}`;
    },
    open(text) {
      const dot = text.indexOf(".");
      if (dot <= 0 || dot !== text.lastIndexOf(".")) return { refused: "malformed" };
      const payload = text.slice(0, dot);
      const given = fromBase64url(text.slice(dot + 1));
      if (given === undefined) return { refused: "malformed" };
      if (!sameBytes(given, macOf(payload))) return { refused: "forged" };
      // Signed by the fleet: parse defensively anyway (an older agent version may have sealed it).
      let raw: unknown;
      try {
        const bytes = fromBase64url(payload);
        raw = bytes === undefined ? undefined : JSON.parse(decoder.decode(bytes));
      } catch {
        return { refused: "malformed" };
      }
      if (!Array.isArray(raw) || raw.length !== 3 || raw[0] !== VERSION || typeof raw[1] !== "string" || !Array.isArray(raw[2])) {
        return { refused: "malformed" };
      }
      const entries: TicketEntry[] = [];
      for (const item of raw[2] as unknown[]) {
        const entry = entryOf(item);
        if (entry === undefined) return { refused: "malformed" };
        entries.push(entry);
      }
      return { leaseId: raw[1], entries };
    },
  };
}
