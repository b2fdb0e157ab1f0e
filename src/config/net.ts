/**
 * Address syntax checks for the config: IPv4/IPv6 literals, CIDRs, `host:port` and listen addresses.
 * The IP grammar is the identity module's (ratelimit/ip.ts), so what the config accepts is
 * exactly what the limiter can match.
 * @module
 */
import { isIPv4, isIPv6 } from "../ratelimit/identity/address-text.ts";
import { parseCidr } from "../ratelimit/identity/ip.ts";

// Listen addresses and address literals are the limiter's grammar (ratelimit/identity/address-text.ts).
export { isIPv4, isIPv6, parseHostPort, parseListenAddress } from "../ratelimit/identity/address-text.ts";

/** Why a CIDR (or bare address) is invalid, or undefined when it is valid (the identity module's parseCidr would accept it). */
export function cidrProblem(text: string): string | undefined {
  const slash = text.indexOf("/");
  const address = slash < 0 ? text : text.slice(0, slash);
  const v4 = isIPv4(address);
  if (!v4 && !isIPv6(address)) return `"${address}" is not an IPv4 or IPv6 address`;
  if (slash < 0) return undefined;
  const prefix = text.slice(slash + 1);
  const max = v4 ? 32 : 128;
  if (!/^[0-9]{1,3}$/.test(prefix) || Number(prefix) > max) {
    return `prefix length "${prefix}" is not a number from 0 to ${max}`;
  }
  if (parseCidr(text) === undefined) return `an IPv4-mapped IPv6 block needs a prefix length from 96 to 128`;
  return undefined;
}

/** A bare address becomes a single-host CIDR so consumers only ever see `address/prefix`. */
export function normaliseCidr(text: string): string {
  if (text.includes("/")) return text;
  return isIPv4(text) ? `${text}/32` : `${text}/128`;
}
