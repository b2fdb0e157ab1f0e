// The handler through the real engine, in memory: no HAProxy, no socket.
import { describe, expect, test } from "bun:test";
import { Agent, setVar } from "@spoa-gcra/spoa-gcra";
import { timers } from "@spoa-gcra/spoa-gcra/bun";
import { connectInMemory } from "@spoa-gcra/spoa-gcra/testing";
import { reputationHandler } from "./handler.ts";

function checkRate(ipv4: string) {
  const value = ipv4.split(".").reduce((n, octet) => n * 256 + Number(octet), 0);
  return [{ name: "check-rate", args: [{ name: "ip_src", kind: "ipv4" as const, value }] }];
}

describe("reputationHandler", () => {
  test("scores a listed client by its network and an unlisted one 0", async () => {
    const agent = new Agent({ handler: reputationHandler(), timers });
    const { client } = connectInMemory(agent);
    client.hello();
    client.notify({ streamId: 1, frameId: 1 }, checkRate("198.51.100.7"));
    client.notify({ streamId: 2, frameId: 1 }, checkRate("203.0.113.9"));
    await client.waitForReplies(3);
    expect(client.acks().map((ack) => ack.actions)).toEqual([[setVar("sess", "ip_score", 85)], [setVar("sess", "ip_score", 0)]]);
    await agent.drain();
  });

  test("sets no ip_score for other messages (the engine still never sends an empty ACK)", async () => {
    const agent = new Agent({ handler: reputationHandler(), timers });
    const { client } = connectInMemory(agent);
    client.hello();
    client.notify({ streamId: 1, frameId: 1 }, [{ name: "something-else", args: [] }]);
    await client.waitForReplies(2);
    expect(client.acks()[0].actions.filter((action) => action.name === "ip_score")).toEqual([]);
    await agent.drain();
  });
});
