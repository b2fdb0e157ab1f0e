/**
 * Address text as operators write it: IPv4 and IPv6 literals, `host:port`, `[v6]:port` and the
 * listen addresses `host:port` / `unix:/path`. The IP grammar is ip.ts's, so what a listen
 * address, the config and the limiter accept is one grammar. Pure: the library exports
 * parseListenAddress from here.
 * @module
 */
import type { ListenAddress } from "../../agent/transport.ts";
import { parseIp } from "./ip.ts";

/** True for a dotted-quad IPv4 literal without leading zeros. */
export function isIPv4(text: string): boolean {
  return !text.includes(":") && parseIp(text) !== undefined;
}

/** True for an IPv6 literal (RFC 4291 text forms, including `::` and an embedded IPv4 tail), without a zone id. */
export function isIPv6(text: string): boolean {
  return text.includes(":") && !text.includes("%") && parseIp(text) !== undefined;
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
