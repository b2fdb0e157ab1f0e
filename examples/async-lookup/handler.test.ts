// The asynchronous handler through the real engine, in memory, with a deadline the test fires by
// hand: an answer before the deadline is used, a late or failed one becomes the fallback.
import { describe, expect, test } from "bun:test";
import { Agent, setVar, type Timers } from "@spoa-gcra/spoa-gcra";
import { timers as hostTimers } from "@spoa-gcra/spoa-gcra/serve";
import { connectInMemory } from "@spoa-gcra/spoa-gcra/testing";
import { lookupHandler } from "./handler.ts";

/** Timers that fire only when the test says so. */
function manualTimers(): Timers & { fireAll(): void } {
  const pending = new Map<number, () => void>();
  let next = 1;
  return {
    schedule: (callback) => (pending.set(next, callback), next++),
    cancel: (handle) => void pending.delete(handle as number),
    fireAll: () => {
      for (const [handle, callback] of [...pending]) {
        pending.delete(handle);
        callback();
      }
    },
  };
}

const classify = (user: string) => [{ name: "classify", args: [{ name: "user", kind: "string" as const, value: user }] }];

function setup(lookup: (user: string) => Promise<string>) {
  const timers = manualTimers();
  // The engine keeps the host's timers; only the handler's deadline is the test's to fire.
  const agent = new Agent({ handler: lookupHandler({ lookup, timeoutMs: 50, timers }), timers: hostTimers });
  const { client } = connectInMemory(agent);
  client.hello();
  return { agent, client, timers };
}

describe("lookupHandler", () => {
  test("answers the plan the service returns before the deadline", async () => {
    const { agent, client } = setup(async (user) => (user === "ann" ? "gold" : "standard"));
    client.notify({ streamId: 1, frameId: 1 }, classify("ann"));
    await client.waitForReplies(2);
    expect(client.acks()[0].actions).toEqual([setVar("txn", "plan", "gold")]);
    await agent.drain();
  });

  test("answers the fallback when the service has not answered by the deadline", async () => {
    const { agent, client, timers } = setup(() => new Promise<string>(() => {}));
    client.notify({ streamId: 1, frameId: 1 }, classify("ann"));
    await Promise.resolve();
    expect(client.acks()).toEqual([]); // still waiting for the service
    timers.fireAll(); // the deadline passes
    await client.waitForReplies(2);
    expect(client.acks()[0].actions).toEqual([setVar("txn", "plan", "standard")]);
    await agent.drain();
  });

  test("answers the fallback when the service fails", async () => {
    const { agent, client } = setup(() => Promise.reject(new Error("service down")));
    client.notify({ streamId: 1, frameId: 1 }, classify("ann"));
    await client.waitForReplies(2);
    expect(client.acks()[0].actions).toEqual([setVar("txn", "plan", "standard")]);
    await agent.drain();
  });
});
