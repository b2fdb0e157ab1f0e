/**
 * An IP-reputation SPOE agent on spoa-gcra: HAProxy sends message `check-rate` with the client
 * address as `ip_src`; the agent answers `sess.<var-prefix>.ip_score` from a static list
 * (0 = unknown … 100 = known bad) and HAProxy denies with `ip_score ge 80`.
 * Runs under Bun, Deno and Node: `SPOE_ADDR=127.0.0.1:12345 bun examples/ip-reputation/agent.ts`.
 * In your own project, import from "@spoa-gcra/spoa-gcra" and "@spoa-gcra/spoa-gcra/<runtime>".
 */
import { Agent, dataAddress, findArg, type NamedData, type NotifyHandler, parseCidrList, parseListenAddress, setVar } from "../../mod.ts";

// Networks and their score; the first match wins. 127.0.0.2 lets you try it locally:
// `curl --interface 127.0.0.2 …` is a listed client, plain `curl` is not.
const REPUTATION: readonly (readonly [cidr: string, score: number])[] = [
  ["192.0.2.0/24", 100],
  ["198.51.100.0/24", 85],
  ["2001:db8:bad::/48", 90],
  ["127.0.0.2", 95],
];
const lists = REPUTATION.map(([cidr, score]) => ({ networks: parseCidrList([cidr]), score }));

function score(args: readonly NamedData[]): number {
  const arg = findArg(args, "ip_src");
  const address = arg === undefined ? undefined : dataAddress(arg);
  if (address === undefined) return 0;
  return lists.find((list) => list.networks.contains(address))?.score ?? 0;
}

const handler: NotifyHandler = {
  handle: (messages) =>
    messages.filter((message) => message.name === "check-rate").map((message) => setVar("sess", "ip_score", score(message.args))),
  // Nothing to say when scoring fails: HAProxy then sees no ip_score and lets the request through.
  failureActions: () => [],
};

// The runtime entries export the same names, so pick one by the runtime we are on.
const runtime = "Bun" in globalThis
  ? await import("../../exports/bun.ts")
  : "Deno" in globalThis
  ? await import("../../exports/deno.ts")
  : await import("../../exports/node.ts");

const addressText = process.env.SPOE_ADDR ?? "127.0.0.1:12345";
const address = parseListenAddress(addressText);
if (address === undefined) throw new Error(`SPOE_ADDR ${addressText} is not host:port, [v6]:port or unix:/path`);

const agent = new Agent({ handler, timers: runtime.timers });
const listener = await runtime.adapter.listenSpop(address, (transport) => agent.accept(transport));
console.log(`ip-reputation agent (${runtime.adapter.name}) listening on ${listener.address}`);

process.on("SIGTERM", async () => {
  await listener.close();
  await agent.drain();
  process.exit(0);
});
