// One scenario across stores: behind the oldest and the newest HAProxy, the Bun agent with its
// state in memory and in each Valkey version gives one client exactly the 429s GCRA predicts and
// leaves another client alone (tests/helpers/stack.ts starts each cell).
import { expect, test } from "bun:test";
import { HAPROXY_VERSIONS } from "../helpers/haproxy.ts";
import { httpRequest } from "../helpers/http-client.ts";
import { describeStacks, stackMatrix } from "../helpers/stack.ts";
import { VALKEY_VERSIONS } from "../helpers/valkey.ts";

const BURST = 3;
const EXTRA = 2;
const RULES = [
  'http-request return status 429 content-type text/plain string "Too Many Requests" if { var(sess.rl.ip_score) -m int ge 80 }',
  'http-request return status 200 content-type text/plain string "ok"',
];
// One request a second, bursts of three: the test's few requests take far less than a second.
const SCENARIO = { rules: RULES, env: { SPOA_RATE_INTERVAL: "1000000", SPOA_RATE_BURST: String((BURST - 1) * 1_000_000) } };
const EDGES = [...new Set([HAPROXY_VERSIONS[0], HAPROXY_VERSIONS.at(-1)!])];

describeStacks("GCRA through HAProxy", stackMatrix({ versions: EDGES, stores: ["memory", ...VALKEY_VERSIONS] }), SCENARIO, (stack, cell) => {
  test(`a client sending burst+${EXTRA} requests gets ${EXTRA} 429s, a second client none`, async () => {
    const statuses: number[] = [];
    for (let i = 0; i < BURST + EXTRA; i++) statuses.push((await httpRequest({ port: stack().frontendPort, localAddress: "127.0.0.1" })).status);
    expect(statuses).toEqual([...Array<number>(BURST).fill(200), ...Array<number>(EXTRA).fill(429)]);
    expect((await httpRequest({ port: stack().frontendPort, localAddress: "127.0.0.2" })).status).toBe(200);
  }, 30_000);

  if (cell.store === "memory") return;
  test("the limit's state is in Valkey", async () => {
    expect(Number((await stack().valkey!.cli("DBSIZE")).trim())).toBeGreaterThan(0);
  }, 30_000);
});
