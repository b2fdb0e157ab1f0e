/**
 * An SPOE agent with Prometheus metrics fed by the engine's events (metrics.ts): SPOP on
 * SPOE_ADDR, `GET /metrics` on METRICS_ADDR, both on the adapter of the runtime running it.
 * `SPOE_ADDR=127.0.0.1:12345 METRICS_ADDR=127.0.0.1:9100 bun examples/metrics-events/agent.ts`
 */
import { parseListenAddress, setVar } from "@spoa-gcra/spoa-gcra";
import { runtimeAdapter, serve } from "@spoa-gcra/spoa-gcra/serve";
import { AgentMetrics } from "./metrics.ts";

const spoeAddress = parseListenAddress(process.env.SPOE_ADDR ?? "127.0.0.1:12345");
const metricsAddress = parseListenAddress(process.env.METRICS_ADDR ?? "127.0.0.1:9100");
if (spoeAddress === undefined || metricsAddress === undefined) throw new Error("SPOE_ADDR and METRICS_ADDR must be host:port or unix:/path");

const metrics = new AgentMetrics();
const served = await serve({
  handler: { handle: (messages) => messages.map((message) => setVar("txn", "seen", message.name)), failureActions: () => [] },
  address: spoeAddress,
  events: metrics.events,
});
const http = await (await runtimeAdapter()).serveHttp(metricsAddress, (request) =>
  new URL(request.url).pathname === "/metrics"
    ? new Response(metrics.render(served.agent), { headers: { "content-type": "text/plain; version=0.0.4" } })
    : new Response("not found\n", { status: 404 }));
console.log(`metrics-events agent (${served.runtime}) listening on ${served.listener.address}, metrics on ${http.address}`);

process.on("SIGTERM", async () => {
  await served.close();
  await http.close();
  process.exit(0);
});
