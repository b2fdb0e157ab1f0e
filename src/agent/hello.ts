/**
 * HELLO negotiation (spop-protocol.md §5, §12 "Handshake"): checks HAProxy's offer and
 * builds the AGENT-HELLO answer.
 * @module
 */
import { SpopError } from "../spop/errors.ts";
import type { AgentHello, HaproxyHello } from "../spop/frame.ts";
import { DisconnectStatus, MIN_FRAME_SIZE, SPOP_VERSION } from "../spop/types.ts";

/** The only capability we ever announce; never `async` or `fragmentation` (§12). */
const PIPELINING = "pipelining";

/** Splits a comma-separated list leniently: HAProxy ignores spaces around tokens (§5). */
function tokens(list: readonly string[]): string[] {
  const out: string[] = [];
  for (const item of list) {
    for (const token of item.split(",")) {
      const trimmed = token.trim();
      if (trimmed !== "") out.push(trimmed);
    }
  }
  return out;
}

/** True when HAProxy offers a 2.x protocol version: we speak "2.0", the only one in use (§5). */
function offersVersion2(supported: readonly string[]): boolean {
  return tokens(supported).some((v) => /^2\.\d+$/.test(v));
}

/**
 * Validates a decoded HAPROXY-HELLO and returns our AGENT-HELLO.
 * @throws SpopError 8 without a 2.x version, 9 when HAProxy's max-frame-size is below 256.
 */
export function negotiateHello(offer: HaproxyHello, ourMaxFrameSize: number): AgentHello {
  if (!offersVersion2(offer.supportedVersions)) {
    throw new SpopError(
      DisconnectStatus.BAD_VERSION,
      `Cannot accept HELLO: no 2.x version in supported-versions "${offer.supportedVersions.join(",")}"`,
    );
  }
  if (!(offer.maxFrameSize >= MIN_FRAME_SIZE)) {
    throw new SpopError(
      DisconnectStatus.BAD_FRAME_SIZE,
      `Cannot accept HELLO: max-frame-size ${offer.maxFrameSize} is below ${MIN_FRAME_SIZE}`,
    );
  }
  const pipelining = tokens(offer.capabilities).includes(PIPELINING);
  return {
    version: SPOP_VERSION,
    maxFrameSize: Math.min(ourMaxFrameSize, offer.maxFrameSize),
    capabilities: pipelining ? [PIPELINING] : [],
  };
}
