/**
 * HAProxy-side load for production e2e tests: many connections of the one SPOP socket client
 * (spop-socket.ts), opened in batches, and a closed loop of NOTIFYs over them.
 * @module
 */
import { clientIp, connectSpop, type SpopConnection, type SpopTarget } from "./spop-socket.ts";

/** Opens `count` connections in parallel batches of `batch`, each with its handshake done. */
export async function connectMany(target: SpopTarget, count: number, options: { readonly batch?: number; readonly timeoutMs?: number } = {}): Promise<SpopConnection[]> {
  const batch = options.batch ?? 200;
  const connections: SpopConnection[] = [];
  try {
    for (let at = 0; at < count; at += batch) {
      const size = Math.min(batch, count - at);
      connections.push(...(await Promise.all(Array.from({ length: size }, () => connectSpop(target, options)))));
    }
  } catch (error) {
    for (const c of connections) c.destroy();
    throw error;
  }
  return connections;
}

/** A running closed-loop load: each connection keeps `window` NOTIFYs unanswered. */
export interface Load {
  /** ACKs received so far over all connections. */
  acked(): number;
  /** NOTIFYs written so far over all connections. */
  sent(): number;
  /** Fills every connection's window now (the refill timer runs only every millisecond). */
  topUp(): void;
  /** Stops writing at once (synchronously): nothing is written after this returns. */
  stop(): void;
}

/** Starts a closed loop of NOTIFYs over `connections` (keys cycle over `keys` addresses). */
export function startLoad(connections: readonly SpopConnection[], options: { readonly window?: number; readonly keys?: number; readonly maxNotifies?: number } = {}): Load {
  const window = options.window ?? 16;
  const keys = options.keys ?? 1_000;
  const max = options.maxNotifies ?? 100_000;
  let total = 0;
  let stopped = false;
  const refill = () => {
    for (const c of connections) {
      if (c.isEnded || c.disconnect !== undefined) continue;
      while (!stopped && total < max && c.sent.length - c.acked.size < window) c.notify(clientIp(total++ % keys));
    }
  };
  const timer = setInterval(refill, 1);
  refill();
  return {
    acked: () => connections.reduce((n, c) => n + c.acked.size, 0),
    sent: () => connections.reduce((n, c) => n + c.sent.length, 0),
    topUp: refill,
    stop: () => {
      stopped = true;
      clearInterval(timer);
    },
  };
}
