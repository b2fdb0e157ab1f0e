/**
 * A rate-limiting SPOE agent whose limits hold across every agent sharing one Valkey; while
 * Valkey is down or slow, each agent decides from memory (`policy: "local"`).
 * `VALKEY_URL=redis://127.0.0.1:6379 SPOE_ADDR=127.0.0.1:12345 RATE=10/s BURST=20 bun examples/valkey-rate-limit/agent.ts`
 */
import { MemoryStore, parseListenAddress, ResilientStore } from "@spoa-gcra/spoa-gcra";
import { clock, serve } from "@spoa-gcra/spoa-gcra/serve";
import { createValkeyStore } from "@spoa-gcra/spoa-gcra/valkey";
import { perClientLimit, rateLimitHandler } from "./handler.ts";

const address = parseListenAddress(process.env.SPOE_ADDR ?? "127.0.0.1:12345");
if (address === undefined) throw new Error("SPOE_ADDR must be host:port, [v6]:port or unix:/path");

const valkey = await createValkeyStore(
  // The key prefix must match the policies' (handler.ts); 20 ms stays inside HAProxy's `timeout processing`.
  { url: process.env.VALKEY_URL ?? "redis://127.0.0.1:6379", keyPrefix: "rl:", deadlineMs: 20, connections: 1, batch: true },
  { clock, connectWaitMs: 1_000 },
);
const store = new ResilientStore({ primary: valkey, fallback: new MemoryStore({ clock }), policy: "local", clock });
const served = await serve({ handler: rateLimitHandler(store, perClientLimit(process.env.RATE ?? "10/s", Number(process.env.BURST ?? 20))), address });
console.log(`valkey-rate-limit agent (${served.runtime}) listening on ${served.listener.address}`);

process.on("SIGTERM", async () => {
  await served.close();
  await store.close();
  process.exit(0);
});
