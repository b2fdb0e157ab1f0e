/**
 * HAProxy in front of the agent for the "Valkey changes under load" scenarios, and a paced HTTP
 * load through it in which every request is a new client (its own X-Forwarded-For address, so
 * its own Valkey key). HAProxy answers each request itself with a status that tells how it was
 * decided: 200 by Valkey, 203 by the failure policy (`txn.rl.degraded`), 429 denied, 503 a SPOE
 * error (`set-on-error`: timeout processing, a dead agent), 502 no decision at all.
 * @module
 */
import { type HaproxyProcess, spoeFrontendConfig, startHaproxy, TEST_SPOE_CONFIG, writeTempFiles } from "./haproxy.ts";
import { httpRequest } from "./http-client.ts";
import { freePort, waitFor } from "./ports.ts";

/** One HTTP request's fate. */
export interface HttpOutcome {
  /** The client address the request claimed (X-Forwarded-For): its key is rl:{address}:… */
  readonly address: string;
  readonly status: number;
  /** performance.now() when the response was read. */
  readonly at: number;
}

/** HAProxy 2.6 with the SPOE filter on `agentPort`. */
export async function startHaproxyFor(agentPort: number): Promise<{ haproxy: HaproxyProcess; port: number }> {
  const port = await freePort();
  const spoe = writeTempFiles({ "spoe.conf": TEST_SPOE_CONFIG });
  const cfg = writeTempFiles({
    "haproxy.cfg": spoeFrontendConfig({
      frontendPort: port,
      server: `127.0.0.1:${agentPort}`,
      spoeFile: spoe["spoe.conf"],
      rules: [
        `http-request return status 503 content-type text/plain string "spoe error" if { var(txn.rl.err) -m found }`,
        `http-request return status 502 content-type text/plain string "no decision" if !{ var(sess.rl.ip_score) -m found }`,
        `http-request return status 429 content-type text/plain string "Too Many Requests" if { var(sess.rl.ip_score) -m int ge 80 }`,
        `http-request return status 203 content-type text/plain string "degraded" if { var(txn.rl.degraded) -m int eq 1 }`,
        `http-request return status 200 content-type text/plain string "ok"`,
      ],
    }),
  });
  const haproxy = await startHaproxy({ configFile: cfg["haproxy.cfg"], waitPort: port });
  await waitFor("HAProxy to pass a request", async () => [200, 203].includes((await httpRequest({ port })).status), 10_000);
  return { haproxy, port };
}

/** The `n`-th client address of a load: 10.64.0.0 + n, never one the SPOP helpers use. */
export function loadAddress(n: number): string {
  const v = 0x0a400000 + n;
  return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}

/** `concurrency` loops sending at most `perSecond` requests in all, each from a new client. */
export function startHttpLoad(port: number, options: { readonly concurrency: number; readonly perSecond: number }): { stop(): Promise<HttpOutcome[]> } {
  const outcomes: HttpOutcome[] = [];
  const startedAt = performance.now();
  let running = true;
  let sent = 0;
  const loops = Array.from({ length: options.concurrency }, async () => {
    while (running) {
      const n = sent++;
      const wait = startedAt + (n * 1000) / options.perSecond - performance.now();
      if (wait > 0) await Bun.sleep(wait);
      const address = loadAddress(n);
      try {
        const response = await httpRequest({ port, headers: { "x-forwarded-for": address } }, 5_000);
        outcomes.push({ address, status: response.status, at: performance.now() });
      } catch {
        outcomes.push({ address, status: 0, at: performance.now() });
      }
    }
  });
  return {
    stop: async () => {
      running = false;
      await Promise.all(loops);
      return outcomes;
    },
  };
}

/** Responses counted by status, e.g. { "200": 1490, "203": 12 }. */
export function byStatus(outcomes: readonly HttpOutcome[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const o of outcomes) counts[o.status] = (counts[o.status] ?? 0) + 1;
  return counts;
}
