// A small HTTP backend for limits that see the response: it answers `x-tokens-used` with what
// the request's `x-tokens` header asked for (verbatim, so a test can send "-5" or "many"; no
// header when it asked for "none"), holds each request `x-hold-ms` (or the default) before
// answering, and counts the requests in flight — the most at once is what a concurrency limit
// must bound. Real sockets on 127.0.0.1, started and stopped by the test.

/** A running backend. */
export interface ResponseBackend {
  readonly port: number;
  /** Requests being held right now. */
  readonly inFlight: () => number;
  /** The most requests held at once since the last reset(). */
  readonly maxInFlight: () => number;
  /** Requests that reached the backend since the last reset(). */
  readonly total: () => number;
  reset(): void;
  stop(): Promise<void>;
}

/** Starts the backend on a free loopback port; `holdMs` is the default hold. */
export function startResponseBackend(options: { readonly holdMs?: number } = {}): ResponseBackend {
  let inFlight = 0;
  let max = 0;
  let total = 0;
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request) {
      total++;
      inFlight++;
      if (inFlight > max) max = inFlight;
      try {
        const hold = Number(request.headers.get("x-hold-ms") ?? options.holdMs ?? 0);
        if (hold > 0) await Bun.sleep(hold);
        const tokens = request.headers.get("x-tokens") ?? "0";
        const headers: Record<string, string> = { "content-type": "text/plain" };
        if (tokens !== "none") headers["x-tokens-used"] = tokens;
        return new Response("ok\n", { headers });
      } finally {
        inFlight--;
      }
    },
  });
  return {
    port: server.port as number,
    inFlight: () => inFlight,
    maxInFlight: () => max,
    total: () => total,
    reset() {
      max = inFlight;
      total = 0;
    },
    async stop() {
      await server.stop(true);
    },
  };
}
