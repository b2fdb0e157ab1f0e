/**
 * The validated shape of a rate-limit policy, shared by the config loader (which builds it)
 * and the policy engine (which compiles and evaluates it).
 * @module
 */
import type { GcraParams } from "../store.ts";

/**
 * A condition on one message argument; a limit applies when all its conditions hold.
 *
 * @example Each kind of condition
 * ```ts
 * import type { ArgMatcher } from "@spoa-gcra/spoa-gcra";
 *
 * const match: ArgMatcher[] = [
 *   { arg: "method", kind: "in", values: ["POST", "PUT"] },
 *   { arg: "path", kind: "prefix", value: "/api/" },
 *   { arg: "host", kind: "regex", pattern: "^(www\\.)?example\\.com$" },
 *   { arg: "ip_src", kind: "cidr", cidrs: ["192.0.2.0/24"] },
 * ];
 * console.assert(match.length === 4);
 * ```
 */
export type ArgMatcher =
  | { readonly arg: string; readonly kind: "exact"; readonly value: string }
  | { readonly arg: string; readonly kind: "prefix"; readonly value: string }
  | { readonly arg: string; readonly kind: "regex"; readonly pattern: string }
  | { readonly arg: string; readonly kind: "in"; readonly values: readonly string[] }
  | { readonly arg: string; readonly kind: "cidr"; readonly cidrs: readonly string[] };

/**
 * One part of a limit's key; the parts are joined into the store key.
 *
 * @example Per client and API version
 * ```ts
 * import type { KeyPart } from "@spoa-gcra/spoa-gcra";
 *
 * const key: KeyPart[] = [{ kind: "identity" }, { kind: "path-prefix", arg: "path", segments: 2 }];
 * console.assert(key.length === 2);
 * ```
 */
export type KeyPart =
  | { readonly kind: "identity" }
  | { readonly kind: "arg"; readonly arg: string }
  /** The first `segments` path segments of an argument ("/api/v1/x" with 2 → "/api/v1"). */
  | { readonly kind: "path-prefix"; readonly arg: string; readonly segments: number };

/**
 * How much one request costs.
 *
 * @example Cost from an argument, capped
 * ```ts
 * import type { CostSpec } from "@spoa-gcra/spoa-gcra";
 *
 * const costs: CostSpec[] = [{ kind: "arg", arg: "rows", default: 1, max: 100 }, { kind: "constant", value: 1 }];
 * console.assert(costs.map((c) => c.kind).join() === "arg,constant");
 * ```
 */
export type CostSpec =
  | { readonly kind: "constant"; readonly value: number }
  | { readonly kind: "arg"; readonly arg: string; readonly default: number; readonly max: number }
  /**
   * Post-paid: the cost is the response message's argument `arg` (e.g. `tokens=res.hdr(x-tokens-used)`);
   * the request phase charges `estimate` and admits only a key not in debt (response/postpaid.ts).
   */
  | { readonly kind: "response"; readonly arg: string; readonly estimate: number; readonly max: number };

/**
 * A concurrency limit: at most `max` requests of one key in flight; a lease lives from the
 * request until its response, or `leaseTtlSeconds` at most (response/lease.ts).
 *
 * @example 10 in flight, refused with 503
 * ```ts
 * import type { ConcurrencySpec } from "@spoa-gcra/spoa-gcra";
 *
 * const inFlight: ConcurrencySpec = { max: 10, leaseTtlSeconds: 30, denyStatus: 503 };
 * console.assert(inFlight.max === 10);
 * ```
 */
export interface ConcurrencySpec {
  readonly max: number;
  readonly leaseTtlSeconds: number;
  /** The status HAProxy answers a request refused by this limit with (via `txn.<p>.deny_status`). */
  readonly denyStatus: 429 | 503;
}

/**
 * A validated limit: what the config loader builds from a `limits:` entry.
 *
 * @example 100 requests a minute per API key on /api
 * ```ts
 * import { gcraParams, type LimitDefinition } from "@spoa-gcra/spoa-gcra";
 *
 * const perKey: LimitDefinition = {
 *   name: "per-api-key", messages: ["check-rate"], match: [{ arg: "path", kind: "prefix", value: "/api" }],
 *   key: [{ kind: "arg", arg: "api_key" }], count: 100, periodSeconds: 60, burst: 10,
 *   params: gcraParams({ count: 100, periodSeconds: 60 }, 10), cost: { kind: "constant", value: 1 }, shadow: false,
 * };
 * console.assert(perKey.params.emissionIntervalUs === 600_000);
 * ```
 */
export interface LimitDefinition {
  /** Unique name, `[A-Za-z0-9_.-]`, shown in `txn.<p>.policy` and the RateLimit headers. */
  readonly name: string;
  /** SPOE message names this limit applies to. */
  readonly messages: readonly string[];
  readonly match: readonly ArgMatcher[];
  readonly key: readonly KeyPart[];
  /** `count` requests per `periodSeconds` (from "100/s", "6000/m", "10/1h"). */
  readonly count: number;
  readonly periodSeconds: number;
  /** Requests a fresh key may send at once. */
  readonly burst: number;
  /** Derived: T = round(period / count) µs, τ = T × (burst − 1). */
  readonly params: GcraParams;
  readonly cost: CostSpec;
  readonly shadow: boolean;
  /** Requests of one key in flight at once; absent: no concurrency limit. */
  readonly concurrency?: ConcurrencySpec;
}

/**
 * How the client identity is resolved from the message arguments.
 *
 * @example Behind a CDN that sends Forwarded
 * ```ts
 * import { type IdentityOptions, resolveIdentity } from "@spoa-gcra/spoa-gcra";
 *
 * const options: IdentityOptions = { trustedProxies: ["203.0.113.0/24"], ipv6PrefixLength: 56, forwardedArg: "ip_fwd", xffArg: "ip_xff", sourceArg: "ip_src" };
 * const who = resolveIdentity([
 *   { name: "ip_src", kind: "string", value: "203.0.113.9" },
 *   { name: "ip_fwd", kind: "string", value: "for=198.51.100.4" },
 * ], options);
 * console.assert(who === "198.51.100.4");
 * ```
 */
export interface IdentityOptions {
  /** CIDRs whose forwarded headers are believed; default none. */
  readonly trustedProxies: readonly string[];
  /** IPv6 clients are keyed by this prefix length; default 64. */
  readonly ipv6PrefixLength: number;
  /** Argument names, in order: RFC 7239 Forwarded, X-Forwarded-For, source address. */
  readonly forwardedArg: string;
  readonly xffArg: string;
  readonly sourceArg: string;
}
