/**
 * The observability HTTP endpoints: GET /metrics, /healthz, /readyz. The runtime adapters
 * serve this handler with their own HTTP server.
 * @module
 */
import type { Health, ProbeResult } from "./health.ts";
import { PROMETHEUS_CONTENT_TYPE } from "./prom-text.ts";

/** Anything that renders Prometheus text (the Registry). */
export interface MetricsSource {
  render(): string;
}

/** Routes the three endpoints; 405 for methods other than GET, 404 for other paths. */
export function createObserveHandler(o: {
  readonly registry: MetricsSource;
  readonly health: Health;
}): (request: Request) => Response | Promise<Response> {
  return (request) => {
    const path = pathOf(request.url);
    if (path !== "/metrics" && path !== "/healthz" && path !== "/readyz") {
      return text(404, "Not Found\n");
    }
    if (request.method !== "GET") {
      return new Response("Method Not Allowed\n", {
        status: 405,
        headers: { allow: "GET", "content-type": "text/plain; charset=utf-8" },
      });
    }
    switch (path) {
      case "/metrics":
        return new Response(o.registry.render(), {
          status: 200,
          headers: { "content-type": PROMETHEUS_CONTENT_TYPE, "cache-control": "no-store" },
        });
      case "/healthz":
        return probe(o.health.liveness());
      case "/readyz":
        return probe(o.health.readiness());
    }
  };
}

// Request.url is absolute in every runtime we serve on; the fallback only guards odd input.
function pathOf(url: string): string {
  try {
    return new URL(url, "http://localhost").pathname;
  } catch {
    return "";
  }
}

function probe(result: ProbeResult): Response {
  return new Response(`${JSON.stringify(result.body)}\n`, {
    status: result.status,
    headers: { "content-type": "application/json", "cache-control": "no-store" },
  });
}

function text(status: number, body: string): Response {
  return new Response(body, { status, headers: { "content-type": "text/plain; charset=utf-8" } });
}
