// The ACL user the shipped Kubernetes manifests give the agents must allow everything the agent
// and `spoa-gcra inspect/reset` do: the decision script, the two-phase script of limits that see
// the response, the read-only peek script, GETDEL,
// and publishing and hearing resets. Runs a real valkey-server with the rules read from the
// manifests, so a narrowed ACL fails here instead of in a cluster.
import { afterAll, describe, expect, test } from "bun:test";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import type { Clock, GcraParams } from "../../../src/ratelimit/store.ts";
import { openValkeyKeyAdmin } from "../../../src/ratelimit/valkey/admin-client.ts";
import { SCRIPT_CLIENT_NAME } from "../../../src/ratelimit/valkey/pipeline/script-socket.ts";
import { createValkeyStore } from "../../../src/ratelimit/valkey/store.ts";
import { keyView, resetChannel } from "../../../src/ratelimit/store-admin.ts";
import { createAdmin } from "../../../src/app/admin.ts";
import { loadConfig } from "../../../src/config/load.ts";
import { waitFor } from "../../helpers/ports.ts";
import { startValkey, VALKEY_VERSIONS, type ValkeyProcess } from "../../helpers/valkey.ts";

const ROOT = join(import.meta.dir, "../../..");
const MANIFESTS = ["deploy/kubernetes/overlays/dev/valkey.yaml", "deploy/kubernetes/overlays/production/valkey-cluster.yaml"];
const clock: Clock = { nowUs: () => Date.now() * 1000 };
const HOUR: GcraParams = { emissionIntervalUs: 3_600_000_000, burstToleranceUs: 0 };

/** The rules after `--user $(VALKEY_USERNAME)` in a manifest's valkey-server args, minus on/password. */
function agentAclRules(file: string): string[] {
  for (const doc of parseAllDocuments(readFileSync(join(ROOT, file), "utf8"))) {
    const text = JSON.stringify(doc.toJS());
    const args = /"args":(\[[^\]]*"\$\(VALKEY_USERNAME\)"[^\]]*\])/.exec(text);
    if (args === null) continue;
    const list: string[] = JSON.parse(args[1]);
    const from = list.indexOf("$(VALKEY_USERNAME)") + 1;
    const end = list.findIndex((a, i) => i > from && a.startsWith("--"));
    return list.slice(from, end < 0 ? undefined : end).filter((r) => r !== "on" && !r.startsWith(">"));
  }
  throw new Error(`no agent ACL user in ${file}`);
}

const servers: ValkeyProcess[] = [];
afterAll(async () => {
  for (const s of servers) {
    await s.stop();
    rmSync(s.dir, { recursive: true, force: true });
  }
});

describe("the shipped ACL of the agents' Valkey user", () => {
  for (const file of MANIFESTS) for (const version of VALKEY_VERSIONS) {
    test(`${file} on Valkey ${version}: decisions, inspect, reset and reset announcements all pass the ACL`, async () => {
      const rules = agentAclRules(file);
      expect(rules).toContain("~rl:*");
      const server = await startValkey({ version, config: [`user spoa on >agent-password ${rules.join(" ")}`] });
      servers.push(server);
      const options = { url: server.url, username: "spoa", password: "agent-password", keyPrefix: "", deadlineMs: 1000, connections: 1, batch: false };
      const heard: string[] = [];
      const store = await createValkeyStore(options, { clock, resets: { channel: resetChannel("rl:"), onKey: (k) => heard.push(k) } });
      const admin = await openValkeyKeyAdmin(options, { resetChannel: resetChannel("rl:") });
      try {
        const key = "rl:{10.0.0.1}:login:abcd";
        expect((await store.check([{ key, params: HOUR, cost: 1, shadow: false }])).allowed).toBe(true);
        expect((await store.check([{ key, params: HOUR, cost: 1, shadow: false }])).allowed).toBe(false);
        // Both phases of a limit that sees the response: a post-paid charge and a lease, acquired and released.
        const phased = { key: "rl:{10.0.0.1}:tokens:abcd", params: HOUR, cost: 0, shadow: false, rate: "postpaid" as const, lease: { max: 1, ttlUs: 30_000_000 } };
        expect((await store.request([phased], "lease-1")).allowed).toBe(true);
        expect((await store.request([phased], "lease-2")).results[0].leaseDenied).toBe(true);
        expect((await store.response([{ ...phased, estimate: 0, actual: 3, lease: true }], "lease-1"))[0].released).toBe(true);
        const peek = await admin.peekKey(key);
        expect(keyView(HOUR, 1, peek)).toMatchObject({ remaining: 0, allowed: false });
        expect(peek.ttlMs).toBeGreaterThan(0);
        expect(await admin.deleteKey(key)).toBe(peek.tatUs);
        await waitFor("the agent's subscription to hear the reset", async () => {
          await admin.announceReset!([key]);
          return heard.includes(key);
        }, 5_000);
      } finally {
        await admin.close();
        await store.close();
      }
    }, 30_000);
  }

  test("an ACL without the reset channel: reset still deletes and says it was not announced; the subscriber gives up after one log line", async () => {
    const server = await startValkey({ config: ["user narrow on >agent-password ~rl:* resetchannels +@all -publish -subscribe"] });
    servers.push(server);
    const options = { url: server.url, username: "narrow", password: "agent-password", keyPrefix: "", deadlineMs: 1000, connections: 1, batch: false };
    const logs: string[] = [];
    const events: string[] = [];
    const store = await createValkeyStore(options, {
      clock,
      log: (_level, _msg, fields) => logs.push(JSON.stringify(fields)),
      onEvent: (e) => events.push(e.kind),
      resets: { channel: resetChannel("rl:"), onKey: () => {} },
    });
    const keys = await openValkeyKeyAdmin(options, { resetChannel: resetChannel("rl:") });
    try {
      const key = "rl:{10.0.0.2}:login:abcd";
      await store.check([{ key, params: HOUR, cost: 1, shadow: false }]);
      const config = loadConfig({ args: { flags: {} }, env: {}, readFile: () => "" });
      const admin = createAdmin({ config: () => config, stores: { kind: "valkey", primary: keys, clock } });
      const report = await admin.reset({ message: { name: "check-rate", args: [] }, keys: [key] });
      expect(report.keys[0].tatUs).toBeGreaterThan(0);
      expect(report.announced).toBe(false);
      expect(report.announceError).toContain("NOPERM");
      await waitFor("the subscriber's NOPERM to be logged", () => logs.some((l) => l.includes("NOPERM")), 5_000);
      // It gave up: no subscriber connection stays or comes back (only the store's and the admin's;
      // the store's lean script socket, named, is not a subscriber).
      await Bun.sleep(500);
      const clients = (await server.cli("CLIENT", "LIST")).split("\n")
        .filter((line) => line.includes("user=narrow") && !line.includes(`name=${SCRIPT_CLIENT_NAME}`));
      expect(clients).toHaveLength(2);
      expect(events).not.toContain("store-error");
      // Decisions are unaffected.
      expect((await store.check([{ key, params: HOUR, cost: 1, shadow: false }])).allowed).toBe(true);
    } finally {
      await keys.close();
      await store.close();
    }
  }, 30_000);
});
