// The handler through the real engine, in memory, with the in-memory store standing in for
// Valkey: the same handler, the same answers, no server.
import { describe, expect, test } from "bun:test";
import { Agent, MemoryStore, type TypedData } from "@spoa-gcra/spoa-gcra";
import { timers } from "@spoa-gcra/spoa-gcra/serve";
import { type AgentReply, connectInMemory } from "@spoa-gcra/spoa-gcra/testing";
import { perClientLimit, rateLimitHandler } from "./handler.ts";

const checkRate = (ipv4: number) => [{ name: "check-rate", args: [{ name: "ip_src", kind: "ipv4" as const, value: ipv4 }] }];

function variable(reply: AgentReply, name: string): TypedData | undefined {
  if (reply.type !== "ack") return undefined;
  const action = reply.actions.find((candidate) => candidate.name === name);
  return action?.type === "set-var" ? action.value : undefined;
}

describe("rateLimitHandler", () => {
  test("lets a client's burst through, denies the next request with a retry_after, and keeps clients apart", async () => {
    const now = 1_000_000_000;
    const store = new MemoryStore({ clock: { nowUs: () => now } });
    const agent = new Agent({ handler: rateLimitHandler(store, perClientLimit("1/m", 2)), timers });
    const { client } = connectInMemory(agent);
    client.hello();
    for (const [stream, ip] of [[1, 0xc0000201], [2, 0xc0000201], [3, 0xc0000201], [4, 0xc0000202]]) {
      client.notify({ streamId: stream, frameId: 1 }, checkRate(ip));
    }
    const acks = (await client.waitForReplies(5)).slice(1);
    expect(acks.map((ack) => variable(ack, "ip_score"))).toEqual([0, 0, 100, 0].map((value) => ({ kind: "int32", value })));
    expect(variable(acks[2], "retry_after")).toEqual({ kind: "int32", value: 60 }); // one emission interval of 1/m
    await agent.drain();
  });
});
