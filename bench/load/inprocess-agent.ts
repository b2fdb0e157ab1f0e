/**
 * A minimal agent for benchmarks: Agent + MemoryStore + rate-limit handler on the Bun adapter,
 * without the CLI's config, telemetry and logging — to tell engine cost from CLI wiring.
 *   bun run bench/load/inprocess-agent.ts [--port 12345] [--interval-us 1] [--burst-us 1000000000] [--max-keys N]
 * Prints "listening 127.0.0.1:PORT" once bound; exits on SIGTERM/SIGINT.
 * @module
 */
import { Agent } from "../../src/agent/agent.ts";
import { defaultLimit } from "../../src/config/limits.ts";
import { createRateLimitHandler, DEFAULT_MESSAGE_NAME } from "../../src/ratelimit/handler.ts";
import { DEFAULT_IDENTITY_OPTIONS } from "../../src/ratelimit/identity/identity.ts";
import { MemoryStore } from "../../src/ratelimit/memory/store.ts";
import { compilePolicies } from "../../src/ratelimit/policy/compile.ts";
import { bunAdapter } from "../../src/runtime/bun.ts";
import { systemTimers } from "../../src/runtime/host-time.ts";

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const n = Number(process.argv[i + 1]);
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`--${name} needs a non-negative integer`);
  return n;
}

const port = flag("port", 0);
// Defaults: a limit so generous that nothing is denied (1 µs interval, ~1000 s of burst).
const limit = defaultLimit({ intervalUs: flag("interval-us", 1), burstUs: flag("burst-us", 1_000_000_000), messages: [DEFAULT_MESSAGE_NAME] });
const store = new MemoryStore({ clock: { nowUs: () => Date.now() * 1000 }, maxKeys: flag("max-keys", 1_000_000) });
const handler = createRateLimitHandler({
  policies: compilePolicies([limit], { keyPrefix: "rl:" }),
  identity: DEFAULT_IDENTITY_OPTIONS,
  store,
  failure: "allow",
});
const agent = new Agent({
  handler,
  timers: systemTimers,
});
const listener = await bunAdapter.listenSpop({ kind: "tcp", hostname: "127.0.0.1", port }, (t) => agent.accept(t));
console.log(`listening ${listener.address}`);

const stop = async () => {
  await listener.close();
  await agent.drain({ graceMs: 1000 });
  process.exit(0);
};
process.on("SIGTERM", () => void stop());
process.on("SIGINT", () => void stop());
