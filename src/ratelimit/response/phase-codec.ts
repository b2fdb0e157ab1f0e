/**
 * Turns one phase of one request into the phase script's KEYS/ARGV and its integer reply back
 * into results (the calling convention is in phase-lua.ts).
 * @module
 */
import { PHASE_REQUEST_REPLY, PHASE_RESPONSE_REPLY } from "./phase-lua.ts";
import { leaseKey, type PhaseCheck, type PhaseDecision, type PhaseResult, type Settlement, type SettleResult } from "./phase.ts";

/** One phase of one request, ready to share a script call with others (see phase-lua.ts). */
export interface PhaseOp {
  readonly keys: readonly string[];
  /** mode, leaseId, n, then the per-check arguments. */
  readonly argv: readonly string[];
  /** Integers this phase takes in the reply. */
  readonly replyLength: number;
}

/** The request phase of one request as a PhaseOp. */
export function requestPhaseOp(checks: readonly PhaseCheck[], leaseId: string, keyPrefix: string): PhaseOp {
  const keys: string[] = [];
  const argv: string[] = ["req", leaseId, String(checks.length)];
  for (const c of checks) {
    keys.push(keyPrefix + c.key, keyPrefix + leaseKey(c.key));
    argv.push(
      c.rate === "postpaid" ? "2" : "1",
      String(c.params.emissionIntervalUs),
      String(c.params.burstToleranceUs),
      String(c.cost),
      c.shadow ? "1" : "0",
      String(c.lease?.max ?? 0),
      String(c.lease?.ttlUs ?? 0),
    );
  }
  return { keys, argv, replyLength: 2 + PHASE_REQUEST_REPLY * checks.length };
}

/** The response phase of one request as a PhaseOp. */
export function responsePhaseOp(settlements: readonly Settlement[], leaseId: string, keyPrefix: string): PhaseOp {
  const keys: string[] = [];
  const argv: string[] = ["res", leaseId, String(settlements.length)];
  for (const s of settlements) {
    keys.push(keyPrefix + s.key, keyPrefix + leaseKey(s.key));
    argv.push(
      s.rate === "postpaid" ? "2" : "1",
      String(s.params.emissionIntervalUs),
      String(s.params.burstToleranceUs),
      String(s.estimate),
      String(s.actual ?? -1),
      s.lease ? "1" : "0",
    );
  }
  return { keys, argv, replyLength: PHASE_RESPONSE_REPLY * settlements.length };
}

/** `[numkeys, ...keys, ...argv]` of one script call carrying `ops` in order. */
export function encodePhaseBatch(ops: readonly PhaseOp[]): string[] {
  const keys: string[] = [];
  const argv: string[] = [String(ops.length)];
  for (const op of ops) {
    keys.push(...op.keys);
    argv.push(...op.argv);
  }
  return [String(keys.length), ...keys, ...argv];
}

/** The reply of a batch cut into each phase's integers; throws when its length is not theirs. */
export function splitPhaseReply(reply: unknown, ops: readonly PhaseOp[]): unknown[][] {
  const expected = ops.reduce((sum, op) => sum + op.replyLength, 0);
  if (!Array.isArray(reply) || reply.length !== expected) throw new Error(`Cannot decode phase script reply: expected ${expected} integers`);
  const parts: unknown[][] = [];
  let o = 0;
  for (const op of ops) {
    parts.push(reply.slice(o, o + op.replyLength));
    o += op.replyLength;
  }
  return parts;
}

function integers(reply: unknown, expected: number): number[] {
  if (!Array.isArray(reply) || reply.length !== expected) throw new Error(`Cannot decode phase script reply: expected ${expected} integers`);
  return reply.map(Number);
}

/** The request-phase reply as a PhaseDecision; throws on a malformed reply. */
export function decodeRequestPhase(reply: unknown, checkCount: number): PhaseDecision {
  const r = integers(reply, 2 + PHASE_REQUEST_REPLY * checkCount);
  const results: PhaseResult[] = [];
  for (let i = 0, o = 2; i < checkCount; i++, o += PHASE_REQUEST_REPLY) {
    results.push({
      allowed: r[o] === 1,
      neverPasses: r[o + 1] === 1,
      retryAfterUs: r[o + 2],
      remaining: r[o + 3],
      resetUs: r[o + 4],
      leaseDenied: r[o + 5] === 1,
      inFlight: r[o + 6],
    });
  }
  return { allowed: r[0] === 1, decidingIndex: r[1], results, degraded: false };
}

/** The response-phase reply as SettleResults; throws on a malformed reply. */
export function decodeResponsePhase(reply: unknown, count: number): SettleResult[] {
  const r = integers(reply, PHASE_RESPONSE_REPLY * count);
  const out: SettleResult[] = [];
  for (let i = 0; i < count; i++) out.push({ released: r[3 * i] === 1, remaining: r[3 * i + 1], resetUs: r[3 * i + 2] });
  return out;
}
