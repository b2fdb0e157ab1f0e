// Free loopback ports for real servers started by tests. They are drawn from below Linux's
// ephemeral range (32768–60999): a port the kernel hands out with bind(0) can be taken again by
// any outgoing connection before our server binds it — the reload storm and load tests open
// thousands — which made "Address already in use" a rare flake. Valkey Cluster also binds
// port + 10000 for its bus, so the range stays below 22768 and the bus ports below 32768.
import { createServer } from "node:net";

const LOW = 12_000;
const HIGH = 22_000;
/** Ports this process already handed out: two servers of one test never get the same one. */
const given = new Set<number>();

function canBind(port: number): Promise<boolean> {
  return new Promise((resolveBind) => {
    const server = createServer();
    server.once("error", () => resolveBind(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolveBind(true)));
  });
}

/** A TCP port on 127.0.0.1, outside the ephemeral range, that was free a moment ago. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = LOW + Math.floor(Math.random() * (HIGH - LOW));
    if (given.has(port) || !(await canBind(port))) continue;
    given.add(port);
    return port;
  }
  throw new Error(`no free port found in ${LOW}–${HIGH}`);
}

/** Polls `probe` until it resolves true or `timeoutMs` passes; throws with `what` on timeout. */
export async function waitFor(what: string, probe: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if (await probe()) return;
    } catch {
      // not ready yet
    }
    await Bun.sleep(25);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}
