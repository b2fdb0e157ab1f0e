/**
 * An agent connection with no socket: a MemoryTransport accepted by the agent and a SpopClient
 * (HAProxy's side) wired to it, so a handler is tested through the real engine without HAProxy.
 * @module
 */
import { SpopClient } from "../spop/client.ts";
import { MemoryTransport, type MemoryTransportOptions } from "./memory-transport.ts";
import type { Agent } from "./agent.ts";

/**
 * One in-memory HAProxy connection: the client that plays HAProxy and the transport under it.
 *
 * @example Close the connection from HAProxy's side
 * ```ts
 * import { Agent } from "@spoa-gcra/spoa-gcra";
 * import { timers } from "@spoa-gcra/spoa-gcra/bun";
 * import { connectInMemory, type InMemoryPeer } from "@spoa-gcra/spoa-gcra/testing";
 *
 * const agent = new Agent({ handler: { handle: () => [], failureActions: () => [] }, timers });
 * const peer: InMemoryPeer = connectInMemory(agent);
 * peer.client.hello();
 * peer.client.disconnect();
 * await peer.client.waitForReplies(2);
 * console.assert(peer.client.replies[1].type === "agent-disconnect");
 * ```
 */
export interface InMemoryPeer {
  readonly client: SpopClient;
  readonly transport: MemoryTransport;
}

/**
 * Opens an in-memory connection to `agent`: what HAProxy's client sends reaches the engine,
 * what the engine writes reaches the client.
 *
 * @param agent The agent under test (or anything with its `accept(transport)`).
 * @param options Options of the MemoryTransport (peer address, close on end).
 * @returns The client to drive and the transport to inspect.
 *
 * @example Test a handler through the engine
 * ```ts
 * import { Agent, findArg, dataText, setVar } from "@spoa-gcra/spoa-gcra";
 * import { timers } from "@spoa-gcra/spoa-gcra/bun";
 * import { connectInMemory } from "@spoa-gcra/spoa-gcra/testing";
 *
 * const agent = new Agent({
 *   handler: {
 *     handle: (messages) => [setVar("txn", "echo", dataText(findArg(messages[0].args, "word")!) ?? "")],
 *     failureActions: () => [],
 *   },
 *   timers,
 * });
 * const { client } = connectInMemory(agent);
 * client.hello();
 * client.notify({ streamId: 3, frameId: 1 }, [{ name: "echo", args: [{ name: "word", kind: "string", value: "hi" }] }]);
 * const [, ack] = await client.waitForReplies(2);
 * console.assert(ack.type === "ack" && ack.streamId === 3 && JSON.stringify(ack.actions) === JSON.stringify([setVar("txn", "echo", "hi")]));
 * ```
 */
export function connectInMemory(agent: Pick<Agent, "accept">, options: MemoryTransportOptions = {}): InMemoryPeer {
  const client = new SpopClient((bytes) => transport.send(bytes));
  const transport = new MemoryTransport({
    ...options,
    onWrite: (bytes) => {
      client.receive(bytes);
      options.onWrite?.(bytes);
    },
  });
  transport.attach(agent.accept(transport));
  return { client, transport };
}
