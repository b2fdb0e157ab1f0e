/**
 * The rate-limit handler the shipped agent runs, built from the library with one limit: each
 * client address may send `rate` requests with bursts of `burst`. Which store decides — memory
 * or Valkey — is the caller's choice; the handler is the same.
 */
import {
  compilePolicies,
  createRateLimitHandler,
  DEFAULT_IDENTITY_OPTIONS,
  gcraParams,
  type LimitDefinition,
  type LimiterStore,
  type NotifyHandler,
  parseRate,
} from "@spoa-gcra/spoa-gcra";

/** A limit on `check-rate` messages keyed by the client address (`ip_src`, or a trusted proxy's `ip_xff`). */
export function perClientLimit(rateText: string, burst: number): LimitDefinition {
  const rate = parseRate(rateText);
  if (rate === undefined) throw new RangeError(`${rateText} is not a rate such as 100/s or 6000/m`);
  return {
    name: "per-client",
    messages: ["check-rate"],
    match: [],
    key: [{ kind: "identity" }],
    count: rate.count,
    periodSeconds: rate.periodSeconds,
    burst,
    params: gcraParams(rate, burst),
    cost: { kind: "constant", value: 1 },
    shadow: false,
  };
}

/**
 * Answers `sess.<prefix>.ip_score` (0 allow, 100 deny), `txn.<prefix>.allowed`, `retry_after`
 * and the RateLimit header variables; `failure: "allow"` lets requests through if the store
 * throws.
 */
export function rateLimitHandler(store: LimiterStore, limit: LimitDefinition = perClientLimit("10/s", 20)): NotifyHandler {
  return createRateLimitHandler({
    policies: compilePolicies([limit], { keyPrefix: "rl:" }),
    identity: DEFAULT_IDENTITY_OPTIONS,
    store,
    failure: "allow",
  });
}
