// The rate-limit handler with limits that see the response, over the memory phase store: the
// shipped LLM-gateway policy (deploy/policy.llm-gateway.yaml) loaded by the config loader,
// request messages as HAProxy sends them, and the response message with the ticket.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { createRateLimitHandler } from "../../../src/ratelimit/handler.ts";
import { MemoryStore } from "../../../src/ratelimit/memory/store.ts";
import { compilePolicies } from "../../../src/ratelimit/policy/compile.ts";
import { MemoryPhaseStore } from "../../../src/ratelimit/response/memory-phases.ts";
import { RESPONSE_MESSAGE_NAME, type ResponseIssue } from "../../../src/ratelimit/response/phase-handler.ts";
import { ticketSealer } from "../../../src/ratelimit/response/ticket.ts";
import type { Action, Message, NamedData } from "../../../src/spop/types.ts";
import { load, withFile } from "../../config/fixture.ts";

const POLICY = readFileSync(resolve(import.meta.dir, "../../../deploy/policy.llm-gateway.yaml"), "utf8");
const CONTEXT = { streamId: 1, frameId: 1, connectionId: 1 };
const KEY = "A".repeat(64);
const S = 1_000_000;

function fixture() {
  const config = load(withFile(POLICY));
  let nowUs = 1_000 * S;
  const clock = { nowUs: () => nowUs };
  const memory = new MemoryStore({ clock, seed: 1 });
  const phases = new MemoryPhaseStore({ memory, clock });
  const issues: ResponseIssue[] = [];
  const handler = createRateLimitHandler({
    policies: compilePolicies(config.limits, { keyPrefix: config.store.keyPrefix }),
    identity: config.identity,
    store: memory,
    failure: "allow",
    phases: { phases, tickets: ticketSealer(new TextEncoder().encode("sixteen bytes at least")), onIssue: (i) => issues.push(i) },
  });
  const run = (m: Message) => handler.handle([m], CONTEXT) as readonly Action[];
  return { handler, phases, issues, run, advance: (us: number) => (nowUs += us) };
}

const vars = (actions: readonly Action[]) =>
  new Map(actions.flatMap((a) => (a.type === "set-var" && "value" in a.value ? [[a.name, a.value.value] as const] : [])));

const keyed = (key?: string): Message => ({
  name: "check-rate",
  args: [
    { name: "ip_src", kind: "ipv4", value: 0xc0000201 },
    ...(key === undefined ? [{ name: "api_key_count", kind: "int64", value: 0 } as NamedData] : [{ name: "api_key", kind: "string", value: key } as NamedData, { name: "api_key_count", kind: "int64", value: 1 } as NamedData]),
  ],
});
const response = (ticket: unknown, tokens?: string | number | null, kind: "string" | "int64" = "string"): Message => ({
  name: RESPONSE_MESSAGE_NAME,
  args: [
    ...(ticket === undefined ? [] : [{ name: "ticket", kind: "string", value: ticket } as NamedData]),
    ...(tokens === undefined ? [] : [tokens === null ? ({ name: "tokens", kind: "null" } as NamedData) : ({ name: "tokens", kind, value: tokens } as NamedData)]),
  ],
});

describe("createRateLimitHandler with limits that see the response", () => {
  test("an allowed request gets a ticket; its response charges the tokens; a key in debt is denied with the exact Retry-After", () => {
    const { run, advance } = fixture();
    const first = vars(run(keyed(KEY)));
    expect(first.get("allowed")).toBe(true);
    expect(typeof first.get("ticket")).toBe("string");
    // 100,000 tokens/min: T = 600 µs, capacity 60 s. 130,000 tokens → 30,000 in debt = 18 s.
    run(response(first.get("ticket"), "130000"));
    const denied = vars(run(keyed(KEY)));
    // Admitted again when one token fits: 18 s + 600 µs → Retry-After 19.
    expect([denied.get("allowed"), denied.get("retry_after"), denied.get("ticket")]).toEqual([false, 19, undefined]);
    advance(18 * S + 600);
    expect(vars(run(keyed(KEY))).get("allowed")).toBe(true);
  });

  test("10 in flight per API key: the 11th is denied (429, Retry-After 1) until a response releases a slot", () => {
    const { run } = fixture();
    const tickets = Array.from({ length: 10 }, () => vars(run(keyed(KEY))).get("ticket"));
    expect(tickets.every((t) => typeof t === "string")).toBe(true);
    const eleventh = vars(run(keyed(KEY)));
    expect([eleventh.get("allowed"), eleventh.get("retry_after"), eleventh.get("deny_status")]).toEqual([false, 1, 429]);
    run(response(tickets[0], "10"));
    expect(vars(run(keyed(KEY))).get("allowed")).toBe(true);
  });

  test("anonymous clients have 1,000 tokens a minute per address and no concurrency limit", () => {
    const { run } = fixture();
    const ticket = vars(run(keyed())).get("ticket");
    run(response(ticket, 1_000, "int64"));
    expect(vars(run(keyed())).get("allowed")).toBe(false);
  });

  test("a forged, malformed or foreign ticket is reported and changes nothing; a response without a ticket is ignored", () => {
    const { run, issues, phases } = fixture();
    const tickets = Array.from({ length: 10 }, () => vars(run(keyed(KEY))).get("ticket") as string);
    const [payload] = tickets[0].split(".");
    const foreign = ticketSealer(new TextEncoder().encode("another fleet's secret")).seal({ leaseId: "x", entries: [] });
    for (const bad of [`${payload}.AAAAAAAAAAAAAAAAAAAAAA`, "not a ticket", foreign]) run(response(bad, "5"));
    run(response(undefined, "5"));
    run(response("", "5"));
    expect(issues.map((i) => i.kind)).toEqual(["forged", "malformed", "forged"]);
    expect(phases.leaseKeys).toBe(1);
    expect(vars(run(keyed(KEY))).get("allowed")).toBe(false); // all 10 slots still held
  });

  test("a missing, negative, non-numeric or huge cost is reported, charges nothing beyond the estimate, and still frees the slot", () => {
    const { run, issues } = fixture();
    const costs: (string | number | null | undefined)[] = [undefined, null, "-5", "many", "99999999999999999999", 10_000_001];
    for (const cost of costs) {
      const ticket = vars(run(keyed(KEY))).get("ticket");
      run(response(ticket, cost, typeof cost === "number" ? "int64" : "string"));
    }
    expect(issues.map((i) => i.kind)).toEqual(["cost-missing", "cost-missing", "cost-negative", "cost-not-a-number", "cost-too-large", "cost-too-large"]);
    // No tokens were charged and every slot came back: 10 requests in flight pass at once.
    const again = Array.from({ length: 10 }, () => vars(run(keyed(KEY))));
    expect(again.every((v) => v.get("allowed") === true)).toBe(true);
    expect(again[9].get("ratelimit")).toBe('"tokens-per-key";r=100000;t=0');
  });
});
