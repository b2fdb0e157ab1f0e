/**
 * Address syntax checks for the config: IPv4/IPv6 literals, CIDRs, `host:port` and listen addresses.
 * Only validation lives here; the identity module parses CIDRs for matching on its own.
 * @module
 */

/** A parsed listen address. */
export type ListenAddress =
  | { readonly kind: "tcp"; readonly host: string; readonly port: number }
  | { readonly kind: "unix"; readonly path: string };

/** True for a dotted-quad IPv4 literal without leading zeros. */
export function isIPv4(text: string): boolean {
  const parts = text.split(".");
  return parts.length === 4 && parts.every((p) => /^(0|[1-9][0-9]{0,2})$/.test(p) && Number(p) <= 255);
}

/** True for an IPv6 literal (RFC 4291 text forms, including `::` and an embedded IPv4 tail). */
export function isIPv6(text: string): boolean {
  if (text.includes("%")) return false;
  const halves = text.split("::");
  if (halves.length > 2) return false;
  const groups = (half: string) => (half === "" ? [] : half.split(":"));
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  const all = [...head, ...tail];
  let units = 0;
  for (let i = 0; i < all.length; i++) {
    const group = all[i];
    if (i === all.length - 1 && group.includes(".")) {
      if (!isIPv4(group)) return false;
      units += 2;
    } else if (/^[0-9a-fA-F]{1,4}$/.test(group)) {
      units += 1;
    } else {
      return false;
    }
  }
  return halves.length === 2 ? units <= 7 : units === 8;
}

/** Why a CIDR (or bare address) is invalid, or undefined when it is valid. */
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
  return undefined;
}

/** A bare address becomes a single-host CIDR so consumers only ever see `address/prefix`. */
export function normaliseCidr(text: string): string {
  if (text.includes("/")) return text;
  return isIPv4(text) ? `${text}/32` : `${text}/128`;
}

const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** Parses `host:port` or `[v6]:port`; undefined when malformed. */
export function parseHostPort(text: string): { readonly host: string; readonly port: number } | undefined {
  const bracketed = /^\[([^\]]+)\]:([0-9]{1,5})$/.exec(text);
  const plain = /^([^:[\]\s]+):([0-9]{1,5})$/.exec(text);
  const match = bracketed ?? plain;
  if (match === null) return undefined;
  const [, host, portText] = match;
  const port = Number(portText);
  if (port > 65535) return undefined;
  if (bracketed !== null ? !isIPv6(host) : !isIPv4(host) && !HOSTNAME.test(host)) return undefined;
  return { host, port };
}

/** Parses a listen address: `host:port`, `[v6]:port` or `unix:/absolute/path`. */
export function parseListenAddress(text: string): ListenAddress | undefined {
  if (text.startsWith("unix:")) {
    const path = text.slice("unix:".length);
    return path.startsWith("/") && path.length > 1 && !path.includes("\0") ? { kind: "unix", path } : undefined;
  }
  const hostPort = parseHostPort(text);
  return hostPort === undefined ? undefined : { kind: "tcp", ...hostPort };
}
