/**
 * Address syntax checks for the config: IPv4/IPv6 literals, CIDRs, `host:port` and listen addresses.
 * The IP grammar is the identity module's (ratelimit/ip.ts), so what the config accepts is
 * exactly what the limiter can match.
 * @module
 */
import type { ListenAddress } from "../agent/transport.ts";
import { parseCidr, parseIp } from "../ratelimit/identity/ip.ts";

/** True for a dotted-quad IPv4 literal without leading zeros. */
export function isIPv4(text: string): boolean {
  return !text.includes(":") && parseIp(text) !== undefined;
}

/** True for an IPv6 literal (RFC 4291 text forms, including `::` and an embedded IPv4 tail), without a zone id. */
export function isIPv6(text: string): boolean {
  return text.includes(":") && !text.includes("%") && parseIp(text) !== undefined;
}

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

/**
 * Parses a listen address: `host:port`, `[v6]:port` or `unix:/absolute/path`.
 *
 * @param text The address text, e.g. the value of `SPOE_ADDR`.
 * @returns The address a runtime adapter listens on, or undefined when malformed.
 *
 * @example From an environment variable to a listen address
 * ```ts
 * import { parseListenAddress } from "@spoa-gcra/spoa-gcra";
 *
 * console.assert(parseListenAddress("127.0.0.1:12345")?.kind === "tcp");
 * console.assert(parseListenAddress("unix:/run/spoa.sock")?.kind === "unix" && parseListenAddress("nonsense") === undefined);
 * ```
 */
export function parseListenAddress(text: string): ListenAddress | undefined {
  if (text.startsWith("unix:")) {
    const path = text.slice("unix:".length);
    return path.startsWith("/") && path.length > 1 && !path.includes("\0") ? { kind: "unix", path } : undefined;
  }
  const hostPort = parseHostPort(text);
  return hostPort === undefined ? undefined : { kind: "tcp", hostname: hostPort.host, port: hostPort.port };
}
