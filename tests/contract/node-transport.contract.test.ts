// The transport contract against the Node adapter under the system Node (20+): the echo port of
// tests/helpers/node-transport-runner.ts, bundled for Node, runs in a child this Bun test drives.
import { resolve } from "node:path";
import { buildForNode } from "../helpers/node-build.ts";
import { spawnPortChild } from "../helpers/port-child.ts";
import { runTransportSuite } from "./transport-suite.ts";

const ROOT = resolve(import.meta.dir, "../..");

runTransportSuite("nodeAdapter", {
  async start() {
    const bundle = buildForNode("tests/helpers/node-transport-runner.ts");
    const child = await spawnPortChild(["node", bundle.file], ROOT);
    return {
      port: child.port,
      stop: async () => {
        await child.stop();
        bundle.remove();
      },
    };
  },
});
