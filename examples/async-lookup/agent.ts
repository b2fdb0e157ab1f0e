/**
 * An SPOE agent whose answer needs an asynchronous lookup (handler.ts), here a stand-in service
 * that takes 5 ms, or 500 ms for the user "slow", which the 50 ms deadline turns into the
 * fallback plan. `SPOE_ADDR=127.0.0.1:12345 bun examples/async-lookup/agent.ts`.
 */
import { parseListenAddress } from "@spoa-gcra/spoa-gcra";
import { serve, timers } from "@spoa-gcra/spoa-gcra/serve";
import { lookupHandler } from "./handler.ts";

const PLANS: Readonly<Record<string, string>> = { ann: "gold", bob: "silver", slow: "platinum" };
const lookup = (user: string) =>
  new Promise<string>((resolve) => setTimeout(() => resolve(PLANS[user] ?? "standard"), user === "slow" ? 500 : 5));

const address = parseListenAddress(process.env.SPOE_ADDR ?? "127.0.0.1:12345");
if (address === undefined) throw new Error("SPOE_ADDR must be host:port, [v6]:port or unix:/path");

const served = await serve({ handler: lookupHandler({ lookup, timeoutMs: 50, timers }), address });
console.log(`async-lookup agent (${served.runtime}) listening on ${served.listener.address}`);
process.on("SIGTERM", () => void served.close().then(() => process.exit(0)));
