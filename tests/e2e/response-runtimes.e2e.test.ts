// The response phase under every runtime the agent ships for (bun, deno, the compiled binary):
// the request's ACK carries a ticket, the one slot of /leak is taken, and a check-response
// message with that ticket frees it. Straight over SPOP (the HAProxy side is
// tests/e2e/response-limits.e2e.test.ts); policy tests/e2e/fixtures/response-policy.yaml.
import { expect, test } from "bun:test";
import { resolve } from "node:path";
import { type AgentRuntime, startAgent } from "../helpers/agent-process.ts";
import { ackVars, openSpop } from "../helpers/policy-load.ts";
import { freePort } from "../helpers/ports.ts";

const POLICY = resolve(import.meta.dir, "fixtures/response-policy.yaml");

for (const runtime of ["bun", "deno", "binary"] as const satisfies readonly AgentRuntime[]) {
  test(`${runtime}: a ticket in the ACK, the slot held, and freed by the response message`, async () => {
    const port = await freePort();
    const agent = await startAgent({ runtime, args: ["serve", "--config", POLICY, "--listen", `127.0.0.1:${port}`], env: { SPOA_TICKET_SECRET: "a fleet secret of the runtime test" } });
    try {
      const conn = await openSpop(port);
      try {
        const request = { name: "check-rate", args: [{ name: "ip_src", kind: "ipv4" as const, value: 0xc0000207 }, { name: "path", kind: "string" as const, value: "/leak" }] };
        const first = ackVars(await conn.decide([request]));
        expect([first.get("txn.allowed"), typeof first.get("txn.ticket")]).toEqual([true, "string"]);
        expect(ackVars(await conn.decide([request])).get("txn.allowed")).toBe(false);
        await conn.decide([{ name: "check-response", args: [{ name: "ticket", kind: "string", value: first.get("txn.ticket") as string }] }]);
        expect(ackVars(await conn.decide([request])).get("txn.allowed")).toBe(true);
      } finally {
        conn.close();
      }
    } finally {
      await agent.stop();
    }
  }, 60_000);
}
