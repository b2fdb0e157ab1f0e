// The store contract suite against the Valkey store on a real standalone valkey-server,
// unbatched and batched (each run gets its own key prefix, so runs never share state).
import { afterAll, beforeAll } from "bun:test";
import { rmSync } from "node:fs";
import { createValkeyStore } from "../../src/ratelimit/valkey/store.ts";
import { startValkey, type ValkeyProcess } from "../helpers/valkey.ts";
import { runStoreSuite } from "./store-suite.ts";

let server: ValkeyProcess;
let runs = 0;
beforeAll(async () => {
  server = await startValkey();
});
afterAll(async () => {
  await server?.stop();
  if (server) rmSync(server.dir, { recursive: true, force: true });
});

for (const batch of [false, true]) {
  runStoreSuite(`ValkeyStore (batch: ${batch})`, {
    create: async () => {
      const store = await createValkeyStore(
        { url: server.url, keyPrefix: `contract${runs++}:`, deadlineMs: 1000, connections: 2, batch },
        { clock: { nowUs: () => Date.now() * 1000 } },
      );
      return { store, cleanup: () => store.close() };
    },
  });
}
