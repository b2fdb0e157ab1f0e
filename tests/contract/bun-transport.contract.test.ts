// The transport contract run in-process against the Bun adapter.
import { bunAdapter } from "../../src/runtime/bun.ts";
import { createEchoServer } from "../helpers/deno-transport-runner.ts";
import { runTransportSuite } from "./transport-suite.ts";

runTransportSuite("bunAdapter", {
  async start() {
    const { accept } = createEchoServer();
    const listener = await bunAdapter.listenSpop({ kind: "tcp", hostname: "127.0.0.1", port: 0 }, accept);
    return { port: listener.port, stop: () => listener.close() };
  },
});
