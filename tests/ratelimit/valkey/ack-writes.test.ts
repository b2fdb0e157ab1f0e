// The Valkey path's system calls, counted: NOTIFYs that arrive on several HAProxy connections in
// one event-loop turn go to Valkey as one script call, and the ACKs that one reply answers leave
// in one write per connection (the engine over in-memory transports, a real valkey-server).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { defaultLimit } from "../../../src/config/limits.ts";
import { createRateLimitHandler } from "../../../src/ratelimit/handler.ts";
import { DEFAULT_IDENTITY_OPTIONS } from "../../../src/ratelimit/identity/identity.ts";
import { MemoryStore } from "../../../src/ratelimit/memory/store.ts";
import { compilePolicies } from "../../../src/ratelimit/policy/compile.ts";
import { ResilientStore } from "../../../src/ratelimit/resilience/resilient-store.ts";
import type { Clock } from "../../../src/ratelimit/store.ts";
import { createValkeyStore, type ValkeyStore } from "../../../src/ratelimit/valkey/store.ts";
import type { Message } from "../../../src/spop/types.ts";
import { harness, type Peer } from "../../agent/harness.ts";
import { startValkey, type ValkeyProcess } from "../../helpers/valkey.ts";

const clock: Clock = { nowUs: () => Date.now() * 1000 };
let valkey: ValkeyProcess;
let store: ValkeyStore;

beforeAll(async () => {
  valkey = await startValkey();
  store = await createValkeyStore({ url: valkey.url, keyPrefix: "", deadlineMs: 2000, connections: 1, batch: true }, { clock });
});
afterAll(async () => {
  await store?.close();
  await valkey?.stop();
  if (valkey) rmSync(valkey.dir, { recursive: true, force: true });
});

const request = (n: number): Message => ({ name: "check-rate", args: [{ name: "ip_src", kind: "ipv4", value: 0x0a000000 + n }] });

async function scriptCalls(): Promise<number> {
  const stats = await valkey.cli("INFO", "commandstats");
  return Number(/cmdstat_evalsha:calls=(\d+)/.exec(stats)?.[1] ?? 0);
}

describe("the Valkey path's writes", () => {
  test("NOTIFYs of one turn on three connections: one script call, then one ACK write per connection", async () => {
    const limit = defaultLimit({ intervalUs: 1_000, burstUs: 1_000_000, messages: ["check-rate"] });
    const resilient = new ResilientStore({ primary: store, fallback: new MemoryStore({ clock }), policy: "deny", clock });
    const handler = createRateLimitHandler({ policies: compilePolicies([limit], { keyPrefix: "rl:" }), identity: DEFAULT_IDENTITY_OPTIONS, store: resilient, failure: "deny" });
    const { ready } = harness({ handler });
    const peers: Peer[] = [ready(), ready(), ready()];
    const helloWrites = peers.map((p) => p.transport.writes.length);
    const before = await scriptCalls();

    let streamId = 1;
    for (const peer of peers) {
      for (let i = 0; i < 5; i++) peer.client.notify({ streamId: streamId++, frameId: 1 }, [request(streamId)]);
      // Each socket's data callback ends with a microtask checkpoint, still within the same turn.
      await Promise.resolve();
    }
    for (let i = 0; i < 200 && peers.some((p) => p.client.acks().length < 5); i++) await Bun.sleep(5);

    expect(peers.map((p) => p.client.acks().length)).toEqual([5, 5, 5]);
    expect(peers.map((p, i) => p.transport.writes.length - helloWrites[i])).toEqual([1, 1, 1]);
    expect((await scriptCalls()) - before).toBe(1);
    expect(peers.flatMap((p) => p.client.acks()).every((a) => a.actions.some((x) => x.type === "set-var" && x.name === "allowed"))).toBe(true);
  });
});
