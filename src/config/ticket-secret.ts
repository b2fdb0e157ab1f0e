/**
 * The key of the response tickets' HMAC (src/ratelimit/response/ticket.ts), from
 * SPOA_TICKET_SECRET or a secret file: the same on every agent of a fleet.
 * @module
 */
import type { IssueSink } from "./errors.ts";
import type { Resolved } from "./resolved.ts";
import { resolveSecret } from "./secret.ts";

/** Shortest ticket secret: it keys an HMAC that guards other keys' budgets. */
export const MIN_TICKET_SECRET_LENGTH = 16;

/** The ticket secret from SPOA_TICKET_SECRET or the secret file; undefined when neither is set. */
export function ticketSecretOf(r: Resolved, io: { readonly readFile: (path: string) => string; readonly sink: IssueSink }): string | undefined {
  const secret = resolveSecret(r, { key: "haproxy.ticketSecret", fileKey: "haproxy.ticketSecretFile" }, io);
  if (secret === undefined || secret.length >= MIN_TICKET_SECRET_LENGTH) return secret;
  const from = r.labelOf(r.rankOf("haproxy.ticketSecretFile") > r.rankOf("haproxy.ticketSecret") ? "haproxy.ticketSecretFile" : "haproxy.ticketSecret") ?? "haproxy.ticketSecret";
  io.sink.add(from, `the ticket secret must be at least ${MIN_TICKET_SECRET_LENGTH} characters`, "generate one: openssl rand -hex 32");
  return undefined;
}
