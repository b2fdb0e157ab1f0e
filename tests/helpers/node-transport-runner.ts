// Run under Node (after `bun build --target=node`, Node 20 runs no TypeScript): the echo port of
// deno-transport-runner.ts behind the Node adapter; prints "PORT n" once listening.
import { nodeAdapter } from "../../src/runtime/node.ts";
import { createEchoServer } from "./deno-transport-runner.ts";

const { accept } = createEchoServer();
const listener = await nodeAdapter.listenSpop({ kind: "tcp", hostname: "127.0.0.1", port: 0 }, accept);
console.log(`PORT ${listener.port}`);
