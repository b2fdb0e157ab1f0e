// "Who is being limited?" end to end: two agents as subprocesses sharing one Valkey (8 and 9),
// each driven into denials over real SPOP by different clients; GET /admin/top (behind the admin
// token) on either agent and `spoa-gcra top` show every agent's denials merged, heaviest first.
import { describe, expect, test } from "bun:test";
import { adminRequest, runCli, startHttpAgent, trackE2eProcesses } from "../helpers/admin-agent.ts";
import { clientIp } from "../helpers/spop-socket.ts";
import { startValkey, VALKEY_VERSIONS, valkeyLabel } from "../helpers/valkey.ts";

const TOKEN = "e2e-top-token-8c1d5e2f9a";
/** The default limit at 1 per minute, burst 3: a client is denied after 3 requests. */
const ENV = { SPOA_RATE_INTERVAL: "60000000", SPOA_RATE_BURST: "120000000", SPOA_ADMIN: "1", SPOA_ADMIN_TOKEN: TOKEN };

const processes = trackE2eProcesses();

interface Entry {
  readonly item: string;
  readonly count: number;
  readonly error: number;
}
interface Lists {
  readonly agents: number;
  readonly source?: string;
  readonly limits: Record<string, { readonly denied: { readonly entries: readonly Entry[] }; readonly heaviest: { readonly entries: readonly Entry[] } }>;
}

for (const version of VALKEY_VERSIONS) {
  describe(`top lists over ${valkeyLabel(version)}`, () => {
    test("two agents' denials merge in /admin/top and in spoa-gcra top; the token is required", async () => {
      const valkey = await startValkey({ version });
      processes.valkeys.push(valkey);
      const env = { ...ENV, VALKEY_URL: valkey.url };
      const agents = await Promise.all([0, 1].map(() => startHttpAgent(processes, { env })));
      // Client 10.0.0.66 is denied 6 times on agent 0 and 4 times on agent 1; 10.0.0.9 twice on agent 1.
      for (let i = 0; i < 9; i++) await agents[0].spop.check(clientIp(66));
      for (let i = 0; i < 4; i++) await agents[1].spop.check(clientIp(66));
      for (let i = 0; i < 5; i++) await agents[1].spop.check(clientIp(9));

      const get = (http: string, token: string | null) => adminRequest(http, "GET", "/admin/top?n=5", token);
      expect((await get(agents[0].http, null)).status).toBe(401);
      const response = await get(agents[1].http, TOKEN);
      expect(response.status).toBe(200);
      const lists = (await response.json()) as Lists;
      expect(lists.source).toBe("valkey");
      const [limit] = Object.keys(lists.limits);
      const denied = lists.limits[limit].denied.entries;
      // Agent 0's lists reach agent 1 with its next publish (every 5 s): wait for it if needed.
      const settled = denied.find((e) => e.item === "10.0.0.66")?.count === 10 ? lists : await (async () => {
        await Bun.sleep(5500);
        return (await (await get(agents[1].http, TOKEN)).json()) as Lists;
      })();
      expect(settled.agents).toBe(2);
      expect(settled.limits[limit].denied.entries).toEqual([
        { item: "10.0.0.66", count: 10, error: 0 },
        { item: "10.0.0.9", count: 2, error: 0 },
      ]);
      expect(settled.limits[limit].heaviest.entries[0]).toEqual({ item: "10.0.0.66", count: 13, error: 0 });

      // /metrics shows only this agent's top few per limit.
      const metrics = await (await fetch(`${agents[0].http}/metrics`)).text();
      const series = metrics.split("\n").filter((line) => line.startsWith("spoa_top_denied{"));
      expect(series).toEqual([`spoa_top_denied{limit="${limit}",rank="1",identity="10.0.0.66"} 6`]);

      const { code, stdout, stderr } = await runCli(["top"], { HOME: "/tmp", ...env });
      expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
      const printed = JSON.parse(stdout) as Lists;
      expect(printed.limits[limit].denied.entries[0]).toEqual({ item: "10.0.0.66", count: 10, error: 0 });
    }, 60_000);
  });
}
