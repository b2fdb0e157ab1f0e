// Agents' "who is being limited" lists merged through one Valkey key (top-exchange.ts), on
// Valkey 8 and 9, as a user with only the commands the shipped ACL grants (GET, SET, EVAL, EVALSHA).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { limitKey } from "../../../src/ratelimit/identity/keys.ts";
import { TopTracker } from "../../../src/ratelimit/top/top-tracker.ts";
import { openTopExchange, topKey, type TopExchange } from "../../../src/ratelimit/valkey/top-exchange.ts";
import { startValkey, VALKEY_VERSIONS, valkeyLabel, type ValkeyProcess } from "../../helpers/valkey.ts";

const params = { emissionIntervalUs: 1000, burstToleranceUs: 0 };
const denied = { allowed: false, decidingIndex: 0, degraded: false, results: [] };
const check = (ip: string) => [{ key: limitKey("rl:", ip, "api", params), params, cost: 1, shadow: false }];
const MAX_AGE = 15_000;

for (const version of VALKEY_VERSIONS) {
  describe(`top lists through Valkey, ${valkeyLabel(version)}`, () => {
    let server: ValkeyProcess;
    const exchanges: TopExchange[] = [];
    beforeAll(async () => {
      server = await startValkey({ version, config: ["user agent on >pw ~rl:* -@all +@connection +eval +evalsha +get +set"] });
    });
    afterAll(async () => {
      await Promise.all(exchanges.map((e) => e.close()));
      await server?.stop();
      rmSync(server.dir, { recursive: true, force: true });
    });
    const open = async () => {
      const exchange = await openTopExchange(
        { url: server.url, username: "agent", password: "pw", keyPrefix: "rl:", deadlineMs: 1000, connections: 1, batch: true },
        { maxAgeMs: MAX_AGE },
      );
      exchanges.push(exchange);
      return exchange;
    };

    test("three agents publish, any reader gets the merged list; a silent agent drops out after maxAgeMs; the key expires", async () => {
      const now = Date.now();
      const agents = await Promise.all([open(), open(), open()]);
      for (const [i, exchange] of agents.entries()) {
        const tracker = new TopTracker();
        for (let n = 0; n < 5 * (i + 1); n++) tracker.observe(check("203.0.113.50"), denied);
        tracker.observe(check(`192.0.2.${i}`), denied);
        // Agent 0 last spoke long ago: its entry is older than maxAgeMs.
        await exchange.publish(`agent-${i}`, tracker.snapshot(now), i === 0 ? now - MAX_AGE - 1 : now);
      }
      const merged = await agents[0].read(now, 64);
      expect(merged.agents).toBe(2);
      expect(merged.limits.api.denied.entries[0]).toEqual({ item: "203.0.113.50", count: 25, error: 0 });
      expect(merged.limits.api.denied.entries.map((e) => e.item).sort()).toEqual(["192.0.2.1", "192.0.2.2", "203.0.113.50"]);
      const ttl = Number(await server.cli("PTTL", topKey("rl:")));
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(MAX_AGE);
    });
  });
}
