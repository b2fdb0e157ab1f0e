/**
 * Turns requests into the script's KEYS/ARGV and its integer reply back into Decisions
 * (the calling convention is documented in ../gcra-lua.ts).
 * @module
 */
import { REPLY_PER_CHECK, REPLY_REQUEST_HEADER } from "../gcra-lua.ts";
import type { Decision, LimitCheck, LimitResult } from "../store.ts";
import { ValkeyStoreError } from "./errors.ts";

/** Throws RangeError for a check the script cannot take: T ≥ 1, τ ≥ 0 and cost ≥ 0, all integers. */
export function validateChecks(checks: readonly LimitCheck[]): void {
  for (const c of checks) {
    const { emissionIntervalUs: t, burstToleranceUs: tau } = c.params;
    if (!Number.isInteger(t) || t < 1 || !Number.isInteger(tau) || tau < 0 || !Number.isInteger(c.cost) || c.cost < 0) {
      throw new RangeError(`Invalid GCRA check for ${c.key}: T=${t} µs, τ=${tau} µs, cost=${c.cost}`);
    }
  }
}

/** Script arguments for a batch of requests: `[numkeys, ...keys, ...argv]` as EVAL wants them. */
export function encodeBatch(requests: readonly (readonly LimitCheck[])[], keyPrefix: string): string[] {
  const keys: string[] = [];
  const argv: string[] = [String(requests.length)];
  for (const checks of requests) {
    argv.push(String(checks.length));
    for (const check of checks) {
      keys.push(keyPrefix + check.key);
      argv.push(
        String(check.params.emissionIntervalUs),
        String(check.params.burstToleranceUs),
        String(check.cost),
        check.shadow ? "1" : "0",
      );
    }
  }
  return [String(keys.length), ...keys, ...argv];
}

/** Integers the reply holds for one request of `checkCount` checks. */
export function replyLength(checkCount: number): number {
  return REPLY_REQUEST_HEADER + REPLY_PER_CHECK * checkCount;
}

/** Splits the script's reply into one Decision per request; throws on a malformed reply. */
export function decodeBatch(reply: unknown, requests: readonly (readonly LimitCheck[])[]): Decision[] {
  let expected = 0;
  for (const checks of requests) expected += replyLength(checks.length);
  if (!Array.isArray(reply) || reply.length !== expected) {
    throw new ValkeyStoreError("reply", `Cannot decode script reply: expected ${expected} integers`);
  }
  const decisions: Decision[] = [];
  let o = 0;
  for (const checks of requests) {
    const allowed = reply[o] === 1;
    const decidingIndex = Number(reply[o + 1]);
    o += REPLY_REQUEST_HEADER;
    const results: LimitResult[] = [];
    for (let i = 0; i < checks.length; i++, o += REPLY_PER_CHECK) {
      results.push({
        allowed: reply[o] === 1,
        neverPasses: reply[o + 1] === 1,
        retryAfterUs: Number(reply[o + 2]),
        remaining: Number(reply[o + 3]),
        resetUs: Number(reply[o + 4]),
      });
    }
    decisions.push({ allowed, decidingIndex, results, degraded: false });
  }
  return decisions;
}
