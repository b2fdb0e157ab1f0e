// A stranger's agent, written against the installed package only: a per-user GCRA limit in
// memory, tested in memory through the engine (./testing), then served on a real socket with
// serve() and asked over node:net. tests/library/npm-install.test.ts installs the packed tarball
// into a fresh project and runs this file under Bun, Deno and Node; it prints one JSON line.
import { dataText, findArg, gcraParams, limitKey, MemoryStore, type NotifyHandler, parseRate, setVar } from "@spoa-gcra/spoa-gcra";
import { serve } from "@spoa-gcra/spoa-gcra/serve";
import { type AgentReply, connectInMemory, SpopClient } from "@spoa-gcra/spoa-gcra/testing";
import { createValkeyStore } from "@spoa-gcra/spoa-gcra/valkey";
import { connect } from "node:net";

const store = new MemoryStore({ clock: { nowUs: () => Date.now() * 1000 } });
const params = gcraParams(parseRate("1/m")!, 1);
const handler: NotifyHandler = {
  handle(messages) {
    const user = findArg(messages[0]?.args ?? [], "user");
    const key = limitKey("rl:", (user && dataText(user)) ?? "anonymous", "api", params);
    const decision = store.check([{ key, params, cost: 1, shadow: false }]);
    return [setVar("txn", "allowed", "allowed" in decision && decision.allowed)];
  },
  failureActions: () => [setVar("txn", "allowed", true)],
};
const ask = (user: string) => [{ name: "check", args: [{ name: "user", kind: "string" as const, value: user }] }];
/** "true"/"false" from an ACK's txn.allowed, or the reply's type when it is something else. */
function allowedOf(reply: AgentReply): string {
  const action = reply.type === "ack" ? reply.actions[0] : undefined;
  return action?.type === "set-var" && action.value.kind === "bool" ? String(action.value.value) : reply.type;
}

const served = await serve({ handler, address: { kind: "tcp", hostname: "127.0.0.1", port: 0 } });

// In memory, through the engine: the first request of "ann" passes, the second does not.
const { client } = connectInMemory(served.agent);
client.hello();
client.notify({ streamId: 1, frameId: 1 }, ask("ann"));
client.notify({ streamId: 2, frameId: 1 }, ask("ann"));
const inMemory = (await client.waitForReplies(3)).slice(1).map(allowedOf);

// Over a real socket: "bob" has his own budget.
const socket = connect(served.listener.port, "127.0.0.1");
const remote = new SpopClient((bytes) => socket.write(bytes));
socket.on("data", (bytes: Uint8Array) => remote.receive(new Uint8Array(bytes)));
remote.hello();
remote.notify({ streamId: 1, frameId: 1 }, ask("bob"));
const overSocket = (await remote.waitForReplies(2)).slice(1).map(allowedOf);
socket.destroy();
await served.close({ graceMs: 1_000 });

const valkeyEntry = typeof createValkeyStore === "function";
console.log(JSON.stringify({ runtime: served.runtime, inMemory, overSocket, valkeyEntry }));
