/**
 * The admin endpoint's settings: on or off, and its bearer token from SPOA_ADMIN_TOKEN or a
 * token file. Enabled without a usable token is a configuration error, never an open endpoint.
 * @module
 */
import type { IssueSink } from "./errors.ts";
import type { Resolved } from "./resolved.ts";
import { resolveSecret } from "./secret.ts";

/** Shortest accepted token: a guessable token would make the endpoint a reset button for anyone. */
export const MIN_ADMIN_TOKEN_LENGTH = 16;

/** Resolved admin settings (the token is a secret: never logged). */
export interface AdminOptions {
  readonly enabled: boolean;
  readonly token?: string;
}

/** Reads and checks the admin fields. */
export function adminOptions(r: Resolved, io: { readonly readFile: (path: string) => string; readonly sink: IssueSink }): AdminOptions {
  const enabled = r.get<boolean>("admin.enabled");
  const token = resolveSecret(r, { key: "admin.token", fileKey: "admin.tokenFile" }, io);
  if (!enabled) return { enabled };
  const label = r.labelOf("admin.enabled") ?? "admin.enabled";
  if (token === undefined) {
    io.sink.add(label, "the admin endpoint needs a token", "set SPOA_ADMIN_TOKEN or admin.tokenFile (--admin-token-file)");
    return { enabled: false };
  }
  if (token.trim().length < MIN_ADMIN_TOKEN_LENGTH || /\s/.test(token)) {
    // Say where the token came from, never what it is.
    const from = r.labelOf(r.rankOf("admin.tokenFile") > r.rankOf("admin.token") ? "admin.tokenFile" : "admin.token") ?? "admin.token";
    io.sink.add(from, `the admin token must be at least ${MIN_ADMIN_TOKEN_LENGTH} characters without spaces`, "generate one: openssl rand -hex 32");
    return { enabled: false };
  }
  return { enabled, token };
}
