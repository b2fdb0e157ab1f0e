import { runStoreSuite } from "./store-suite.ts";
import { MemoryStore } from "../../src/ratelimit/memory/store.ts";

runStoreSuite("MemoryStore (store contract, real clock)", {
  create: async () => {
    const store = new MemoryStore({ clock: { nowUs: () => Date.now() * 1000 } });
    return { store, cleanup: () => store.close() };
  },
});
