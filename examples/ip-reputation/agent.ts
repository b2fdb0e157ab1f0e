/**
 * An IP-reputation SPOE agent on spoa-gcra (the handler is in handler.ts). serve() picks the
 * runtime's socket adapter, so the same file runs under Bun, Deno and Node:
 * `SPOE_ADDR=127.0.0.1:12345 bun examples/ip-reputation/agent.ts`.
 */
import { parseListenAddress } from "@spoa-gcra/spoa-gcra";
import { serve } from "@spoa-gcra/spoa-gcra/serve";
import { reputationHandler } from "./handler.ts";

const addressText = process.env.SPOE_ADDR ?? "127.0.0.1:12345";
const address = parseListenAddress(addressText);
if (address === undefined) throw new Error(`SPOE_ADDR ${addressText} is not host:port, [v6]:port or unix:/path`);

const served = await serve({ handler: reputationHandler(), address });
console.log(`ip-reputation agent (${served.runtime}) listening on ${served.listener.address}`);

process.on("SIGTERM", async () => {
  await served.close();
  process.exit(0);
});
