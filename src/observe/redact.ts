/**
 * Masks secrets before anything reaches a log line: credential-named fields and the
 * password part of `scheme://user:pass@host` URLs.
 * @module
 */

/** What replaces a secret. */
export const REDACTED = "***";

// Names, not values, mark a secret; "key" alone stays visible because rate-limit keys are not
// secrets and are what an operator needs to see.
const SECRET_NAME = /pass(word|wd|phrase)?$|secret|token|credential|authorization|cookie|(api|access|private|secret|auth|signing)[-_]?key/i;
const URL_PASSWORD = /\b([a-z][a-z0-9+.-]*:\/\/)([^:@/\s]*):([^@/\s]*)@/gi;

/** True when a field of this name holds a secret. */
export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

/** `redis://user:pass@host` → `redis://user:***@host`; other text unchanged. */
export function redactUrlPasswords(text: string): string {
  return text.replace(URL_PASSWORD, (_m, scheme: string, user: string) => `${scheme}${user}:${REDACTED}@`);
}

/**
 * A copy of `value` with secret-named fields masked and URL passwords removed from strings,
 * recursing into plain objects and arrays (depth-limited: logs never need deep trees).
 */
export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === "string") return value.includes("@") ? redactUrlPasswords(value) : value;
  if (value === null || typeof value !== "object" || depth > 8) return value;
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1));
  if (value instanceof Error) return redactError(value);
  const out: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(value)) {
    out[name] = isSecretName(name) && field !== undefined && field !== null && field !== "" ? REDACTED : redact(field, depth + 1);
  }
  return out;
}

function redactError(error: Error): Record<string, unknown> {
  const out: Record<string, unknown> = { name: error.name, message: redactUrlPasswords(error.message) };
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string" || typeof code === "number") out.code = code;
  return out;
}
