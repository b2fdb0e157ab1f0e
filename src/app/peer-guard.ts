/**
 * SPOP has no authentication: whoever reaches the port can send NOTIFYs with any client's
 * address and spend that client's budget. This file says so at start when the port is not
 * loopback-only, and (with `allowedPeers`) closes connections from peers outside the listed
 * CIDRs before a byte is read, counting and logging them.
 * @module
 */
import type { ListenAddress } from "../agent/transport.ts";
import { parseCidrList, parseIp, type IpAddress } from "../ratelimit/identity/ip.ts";
import type { AcceptHandler } from "../runtime/types.ts";

/** True for a TCP listen address only local processes can reach. */
export function isLoopbackListen(address: ListenAddress): boolean {
  if (address.kind === "unix") return true;
  const host = address.hostname.replace(/^\[|\]$/g, "");
  if (host === "localhost" || host === "::1") return true;
  return /^127\./.test(host);
}

/** The warning for the start log, or undefined when the port is loopback-only or a unix socket. */
export function exposureWarning(address: ListenAddress, allowedPeers: readonly string[]): string | undefined {
  if (isLoopbackListen(address)) return undefined;
  return allowedPeers.length === 0
    ? "SPOP listens beyond loopback and has no authentication: anyone who can reach the port can spend any client's budget; set allowedPeers (--allow-peer) to HAProxy's addresses or restrict the port with a NetworkPolicy or firewall"
    : "SPOP listens beyond loopback and has no authentication: only peers in allowedPeers are served, so keep that list to HAProxy's addresses";
}

/** The peer's IP from a transport's remote address ("10.0.0.5:41234", "[::1]:5", "::ffff:10.0.0.5:5"). */
export function peerIp(remoteAddress: string): IpAddress | undefined {
  const colon = remoteAddress.lastIndexOf(":");
  if (colon < 0) return undefined;
  let host = remoteAddress.slice(0, colon).replace(/^\[|\]$/g, "");
  // A dual-stack socket reports IPv4 peers as IPv4-mapped IPv6; the allow list says 10.0.0.0/8.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(host);
  if (mapped !== null) host = mapped[1];
  return parseIp(host);
}

/**
 * Wraps an accept handler so connections from outside `allowedPeers` are closed at once and
 * reported to `onRefused` (telemetry counts and logs them). An empty list lets everyone in;
 * unix-socket peers are always let in (file permissions decide).
 */
export function guardPeers(accept: AcceptHandler, allowedPeers: readonly string[], onRefused: (remoteAddress: string) => void): AcceptHandler {
  if (allowedPeers.length === 0) return accept;
  const allowed = parseCidrList(allowedPeers);
  return (transport) => {
    if (transport.remoteAddress === "unix") return accept(transport);
    const ip = peerIp(transport.remoteAddress);
    if (ip !== undefined && allowed.contains(ip)) return accept(transport);
    onRefused(transport.remoteAddress);
    transport.end();
    // Nothing is read from a refused peer: whatever it sends is dropped until the socket closes.
    return { receive: () => {}, drained: () => {}, closed: () => {} };
  };
}
