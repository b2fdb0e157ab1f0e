/**
 * Client identity: which address a request is counted against.
 *
 * Order: RFC 7239 `Forwarded` → `X-Forwarded-For` → the source address. Forwarded values are
 * believed only when the source address is a trusted proxy (default: none, so the key is the
 * source address). A forwarded list is walked from the right, skipping trusted proxies and
 * entries that are not addresses (`unknown`, obfuscated `_hidden`, garbage): the first untrusted
 * address is the client; when every address is trusted, the leftmost one is. Only the right end
 * is read, so garbage a client prepends cannot hide what our proxies appended.
 * Work is capped: a header value over 8 KiB is ignored, and a walk that passes 64 entries without
 * an answer gives up; both fall back to the next source. With no address at all the identity is
 * `unknown`, so such requests share one limit.
 * @module
 */
import type { NamedData } from "../../spop/types.ts";
import { Char, isOws } from "./chars.ts";
import type { IdentityOptions } from "../policy/types.ts";
import {
  type CidrSet,
  formatIpv4,
  formatIpv6,
  indexIn,
  type IpAddress,
  maskIpv6,
  parseCidrList,
  parseHostAddress,
  parseHostRange,
} from "./ip.ts";
import { dataAddress, findArg } from "../policy/args.ts";

/** Identity of requests without any usable address. */
export const UNKNOWN_IDENTITY = "unknown";
/** Forwarded / X-Forwarded-For values longer than this are ignored (the next source decides). */
export const MAX_FORWARDED_CHARS = 8192;
/** Entries of a forwarded list examined from the right before giving up. */
export const MAX_FORWARDED_HOPS = 64;
/** One list entry longer than this (a bracketed IPv6 with zone and port is under 60) is no address. */
const MAX_ENTRY_CHARS = 80;

/**
 * The shipped agent's defaults: no trusted proxy, IPv6 keyed by /64, arguments `ip_fwd`
 * (RFC 7239 Forwarded), `ip_xff` (X-Forwarded-For) and `ip_src` (the source address).
 *
 * @example Trust a proxy network, keep the rest
 * ```ts
 * import { DEFAULT_IDENTITY_OPTIONS, type IdentityOptions } from "@spoa-gcra/spoa-gcra";
 *
 * const options: IdentityOptions = { ...DEFAULT_IDENTITY_OPTIONS, trustedProxies: ["192.0.2.0/24"] };
 * console.assert(options.sourceArg === "ip_src");
 * ```
 */
export const DEFAULT_IDENTITY_OPTIONS: IdentityOptions = {
  trustedProxies: [],
  ipv6PrefixLength: 64,
  forwardedArg: "ip_fwd",
  xffArg: "ip_xff",
  sourceArg: "ip_src",
};

/**
 * Identity options compiled once (CIDR set, suffix text).
 *
 * @example Resolve many messages
 * ```ts
 * import { compileIdentity, DEFAULT_IDENTITY_OPTIONS, type IdentityResolver } from "@spoa-gcra/spoa-gcra";
 *
 * const resolver: IdentityResolver = compileIdentity(DEFAULT_IDENTITY_OPTIONS);
 * console.assert(resolver.resolve([]) === "unknown" && resolver.resolve([{ name: "ip_src", kind: "ipv4", value: 0xc0000201 }]) === "192.0.2.1");
 * ```
 */
export interface IdentityResolver {
  /** The identity text for one message's arguments. */
  resolve(args: readonly NamedData[]): string;
}

/**
 * Compiles identity options once, for resolving many messages.
 *
 * @param options Trusted proxies, the IPv6 prefix length and the argument names.
 * @returns A resolver from a message's arguments to the client identity.
 * @throws {RangeError} On an invalid trusted-proxy CIDR.
 *
 * @example Believe X-Forwarded-For only from the load balancer
 * ```ts
 * import { compileIdentity, DEFAULT_IDENTITY_OPTIONS } from "@spoa-gcra/spoa-gcra";
 *
 * const identity = compileIdentity({ ...DEFAULT_IDENTITY_OPTIONS, trustedProxies: ["10.0.0.0/8"] });
 * const viaProxy = identity.resolve([
 *   { name: "ip_src", kind: "ipv4", value: 0x0a000001 },
 *   { name: "ip_xff", kind: "string", value: "198.51.100.23" },
 * ]);
 * console.assert(viaProxy === "198.51.100.23");
 * ```
 */
export function compileIdentity(options: IdentityOptions): IdentityResolver {
  const trusted = parseCidrList(options.trustedProxies);
  const prefix = Math.max(0, Math.min(128, Math.trunc(options.ipv6PrefixLength)));
  const suffix = `/${prefix}`;
  const { forwardedArg, xffArg, sourceArg } = options;
  // The masked IPv6 address before it is formatted: this resolver's own, reused per request.
  const scratch = new Uint8Array(16);
  const format = (address: IpAddress): string =>
    typeof address === "number" ? formatIpv4(address) : formatIpv6(maskIpv6(address, prefix, scratch)) + suffix;
  return {
    resolve(args: readonly NamedData[]): string {
      const sourceData = findArg(args, sourceArg);
      const source = sourceData === undefined ? undefined : dataAddress(sourceData);
      if (source === undefined) return UNKNOWN_IDENTITY;
      if (trusted.empty || !trusted.contains(source)) return format(source);
      const forwarded = forwardedClient(findArg(args, forwardedArg), trusted, forwardedFor);
      if (forwarded !== undefined) return format(forwarded);
      const xff = forwardedClient(findArg(args, xffArg), trusted, xffEntry);
      return format(xff ?? source);
    },
  };
}

/**
 * Resolves the identity of one message, compiling the options for this one call; to resolve
 * many messages, compile them once with compileIdentity.
 *
 * @param args The message's arguments.
 * @param options Trusted proxies, the IPv6 prefix length and the argument names.
 * @returns The client address (IPv6 as its prefix, e.g. `2001:db8::/64`), or `unknown`.
 *
 * @example IPv6 clients are keyed by their /64
 * ```ts
 * import { DEFAULT_IDENTITY_OPTIONS, resolveIdentity } from "@spoa-gcra/spoa-gcra";
 *
 * const who = resolveIdentity([{ name: "ip_src", kind: "string", value: "2001:db8::7" }], DEFAULT_IDENTITY_OPTIONS);
 * console.assert(who === "2001:db8::/64");
 * ```
 */
export function resolveIdentity(args: readonly NamedData[], options: IdentityOptions): string {
  return compileIdentity(options).resolve(args);
}

/** Reads one list entry [start, end) of a header value; undefined when it names no address. */
type EntryReader = (text: string, start: number, end: number) => IpAddress | undefined;

function forwardedClient(data: NamedData | undefined, trusted: CidrSet, entry: EntryReader): IpAddress | undefined {
  if (data === undefined) return undefined;
  if (data.kind !== "string") return dataAddress(data);
  const text = data.value;
  if (text.length > MAX_FORWARDED_CHARS) return undefined;
  let leftmost: IpAddress | undefined;
  let end = text.length;
  for (let hops = 0; end >= 0; hops++) {
    if (hops === MAX_FORWARDED_HOPS) return undefined;
    const comma = end > 0 ? text.lastIndexOf(",", end - 1) : -1;
    const address = end > comma + 1 ? entry(text, comma + 1, end) : undefined;
    if (address !== undefined) {
      if (!trusted.contains(address)) return address;
      leftmost = address;
    }
    if (comma < 0) break;
    end = comma;
  }
  return leftmost;
}

function xffEntry(text: string, start: number, end: number): IpAddress | undefined {
  return end - start > MAX_ENTRY_CHARS ? undefined : parseHostRange(text, start, end);
}

/**
 * The `for=` node of one Forwarded element (RFC 7239 §4–6), pairs split on `;`, name
 * case-insensitive, value a token or quoted string. Splitting ignores quotes on purpose:
 * a node never contains `,` or `;`, and an unbalanced quote on the left must not swallow
 * the elements our proxies appended.
 */
function forwardedFor(text: string, start: number, end: number): IpAddress | undefined {
  let pairStart = start;
  while (pairStart < end) {
    let pairEnd = indexIn(text, Char.SEMICOLON, pairStart, end);
    if (pairEnd < 0) pairEnd = end;
    let i = pairStart;
    while (i < pairEnd && isOws(text.charCodeAt(i))) i++;
    if (
      pairEnd - i > 4 && (text.charCodeAt(i) | Char.LOWER_CASE_BIT) === Char.LOWER_F &&
      (text.charCodeAt(i + 1) | Char.LOWER_CASE_BIT) === Char.LOWER_O &&
      (text.charCodeAt(i + 2) | Char.LOWER_CASE_BIT) === Char.LOWER_R && text.charCodeAt(i + 3) === Char.EQUALS
    ) return forNode(text, i + 4, pairEnd);
    pairStart = pairEnd + 1;
  }
  return undefined;
}

function forNode(text: string, start: number, end: number): IpAddress | undefined {
  while (end > start && isOws(text.charCodeAt(end - 1))) end--;
  if (end - start > MAX_ENTRY_CHARS) return undefined;
  if (text.charCodeAt(start) === Char.QUOTE) {
    if (end - start < 2 || text.charCodeAt(end - 1) !== Char.QUOTE) return undefined;
    // Quoted-pair escapes are legal but no address needs one; drop the backslashes.
    if (indexIn(text, Char.BACKSLASH, start + 1, end - 1) >= 0) {
      return parseHostAddress(text.slice(start + 1, end - 1).replace(/\\(.)/g, "$1"));
    }
    return parseHostRange(text, start + 1, end - 1);
  }
  // RFC 7239 wants IPv6 quoted (`:` is no token character); some proxies don't, so accept it.
  return parseHostRange(text, start, end);
}
