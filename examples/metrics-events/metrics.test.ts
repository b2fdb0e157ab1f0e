// Events through the real engine, in memory: what the hooks counted is what /metrics shows.
import { describe, expect, test } from "bun:test";
import { Agent, setVar } from "@spoa-gcra/spoa-gcra";
import { timers } from "@spoa-gcra/spoa-gcra/serve";
import { connectInMemory } from "@spoa-gcra/spoa-gcra/testing";
import { AgentMetrics } from "./metrics.ts";

describe("AgentMetrics", () => {
  test("counts the connection, its frames by type and a failing handler, and reads gauges from the agent", async () => {
    const metrics = new AgentMetrics();
    let calls = 0;
    const agent = new Agent({
      handler: {
        handle: () => {
          if (++calls === 2) throw new Error("lookup failed");
          return [setVar("txn", "ok", true)];
        },
        failureActions: () => [setVar("txn", "ok", false)],
      },
      timers,
      events: metrics.events,
    });
    const { client } = connectInMemory(agent);
    client.hello();
    client.notify({ streamId: 1, frameId: 1 }, [{ name: "check", args: [] }]);
    client.notify({ streamId: 2, frameId: 1 }, [{ name: "check", args: [] }]);
    await client.waitForReplies(3);
    const text = metrics.render(agent);
    for (const line of [
      "spoa_connections_opened_total 1",
      'spoa_frames_received_total{type="haproxy-hello"} 1',
      'spoa_frames_received_total{type="notify"} 2',
      'spoa_frames_sent_total{type="agent-hello"} 1',
      'spoa_frames_sent_total{type="ack"} 2',
      "spoa_handler_failures_total 1",
      "spoa_connections 1",
      "spoa_notify_in_flight 0",
    ]) {
      expect(text.split("\n")).toContain(line);
    }
    client.disconnect();
    await client.waitForReplies(4);
    await agent.drain();
    expect(metrics.render(agent).split("\n")).toContain('spoa_connections_closed_total{reason="haproxy-disconnect"} 1');
  });
});
