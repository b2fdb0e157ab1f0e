/**
 * Values of the IETF `RateLimit-Policy` and `RateLimit` response fields
 * (draft-ietf-httpapi-ratelimit-headers-11): Structured-Field lists whose items are the policy
 * name as an sf-string with integer parameters. HAProxy copies them into headers verbatim.
 * @module
 */
import type { LimitDefinition } from "../policy/types.ts";

/** The policy name as an sf-string (quotes and backslashes escaped; our names never need it). */
function sfString(name: string): string {
  return name.indexOf('"') < 0 && name.indexOf("\\") < 0 ? `"${name}"` : `"${name.replace(/["\\]/g, "\\$&")}"`;
}

/** Seconds as a non-negative sf-integer, rounded up: a client waiting less would be throttled. */
export function ceilSeconds(us: number): number {
  return us <= 0 ? 0 : Math.ceil(us / 1_000_000);
}

/**
 * One `RateLimit-Policy` item: `"name";q=<count>;w=<period seconds>`. The quota is the
 * limit's count per window (GCRA spreads it evenly; the burst is not advertised).
 */
export function policyItem(limit: LimitDefinition): string {
  const window = Math.max(1, Math.ceil(limit.periodSeconds));
  return `${sfString(limit.name)};q=${Math.max(0, Math.round(limit.count))};w=${window}`;
}

/** The `RateLimit-Policy` value listing several items. */
export function policyField(items: readonly string[]): string {
  return items.length === 1 ? items[0] : items.join(", ");
}

/** The `RateLimit` value of the deciding limit: `"name";r=<remaining>;t=<seconds until reset>`. */
export function rateLimitField(name: string, remaining: number, resetUs: number): string {
  return `${rateLimitPrefix(name)}${Math.max(0, Math.floor(remaining))};t=${ceilSeconds(resetUs)}`;
}

/** The constant start of a limit's `RateLimit` value, `"name";r=` (callers cache it per limit). */
export function rateLimitPrefix(name: string): string {
  return `${sfString(name)};r=`;
}
