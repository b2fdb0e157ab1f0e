/**
 * Testing an agent without HAProxy: an in-memory transport the engine accepts like a socket,
 * and an SPOP client that plays HAProxy's side (HELLO, NOTIFY, DISCONNECT, reading ACKs).
 * Pure code like the core entry: it loads no runtime API, so the same test runs under Bun,
 * Deno and Node.
 *
 * @example Test a handler through the real engine, in memory
 * ```ts
 * import { Agent, setVar } from "@spoa-gcra/spoa-gcra";
 * import { timers } from "@spoa-gcra/spoa-gcra/bun";
 * import { connectInMemory } from "@spoa-gcra/spoa-gcra/testing";
 *
 * const agent = new Agent({ handler: { handle: () => [setVar("sess", "ip_score", 0)], failureActions: () => [] }, timers });
 * const { client } = connectInMemory(agent);
 * client.hello();
 * client.notify({ streamId: 1, frameId: 1 }, [{ name: "check-rate", args: [{ name: "ip_src", kind: "ipv4", value: 0xc0000201 }] }]);
 * const [hello, ack] = await client.waitForReplies(2);
 * console.assert(hello.type === "agent-hello" && ack.type === "ack" && ack.actions.length === 1);
 * await agent.drain();
 * ```
 * @module
 */
export { MemoryTransport, type MemoryTransportOptions } from "../src/agent/memory-transport.ts";
export { connectInMemory, type InMemoryPeer } from "../src/agent/in-memory-peer.ts";
export { type AgentReply, type NotifyIds, RUNTIME_HELLO, SpopClient } from "../src/spop/client.ts";
