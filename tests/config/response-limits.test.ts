// The config keys of limits that see the response: cost {response}, concurrency, leaseTtl,
// denyStatus and the ticket secret, each refused with the field it came from; the LLM-gateway
// example is the same in deploy/, docs/configuration.md and `help config`.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { configHelpText } from "../../src/cli/help-config.ts";
import { configSummary } from "../../src/cli/check-config.ts";
import { redactedConfig } from "../../src/config/schema.ts";
import { LLM_GATEWAY_YAML } from "../../src/config/response-reference.ts";
import { issuesOf, load, withFile } from "./fixture.ts";

const ROOT = resolve(import.meta.dir, "../..");
const limit = (extra: string) => `limits:\n  - { name: t, rate: 60/m, ${extra} }\n`;
const messages = (yaml: string) => issuesOf(withFile(yaml)).map((i) => `${i.path}: ${i.message}`);

describe("limits that see the response in the config file", () => {
  test("deploy/policy.llm-gateway.yaml, the docs and help config show one policy: 100,000 tokens/min and 10 in flight per key, 1,000/min anonymous", () => {
    const shipped = load(withFile(readFileSync(resolve(ROOT, "deploy/policy.llm-gateway.yaml"), "utf8"))).limits;
    expect(shipped).toEqual(load(withFile(LLM_GATEWAY_YAML)).limits);
    expect(shipped.map((l) => [l.name, l.count, l.periodSeconds, l.cost, l.concurrency])).toEqual([
      ["tokens-per-key", 100_000, 60, { kind: "response", arg: "tokens", estimate: 0, max: 10_000_000 }, { max: 10, leaseTtlSeconds: 30, denyStatus: 429 }],
      ["tokens-anonymous", 1_000, 60, { kind: "response", arg: "tokens", estimate: 0, max: 10_000_000 }, undefined],
    ]);
    expect(readFileSync(resolve(ROOT, "docs/configuration.md"), "utf8")).toContain(LLM_GATEWAY_YAML);
    expect(configHelpText()).toContain("    concurrency: 10");
  });

  test("check-config's summary says where the cost comes from and how many may be in flight", () => {
    const summary = configSummary(load(withFile(LLM_GATEWAY_YAML)));
    expect(summary).toContain("cost from the response's tokens (estimate 0, max 10000000; admitted while not in debt)");
    expect(summary).toContain("at most 10 in flight per key (lease 30 s, refused with 429)");
  });

  test("bad values are refused with their field", () => {
    expect(messages(limit("cost: { response: 5 }"))).toEqual(['limits[0].cost.response: expected the response message\'s argument name, got 5']);
    expect(messages(limit("cost: { response: tokens, estimate: -1 }"))).toEqual(["limits[0].cost.estimate: expected a whole number ≥ 0, got -1"]);
    expect(messages(limit("cost: { response: tokens, estimate: 61 }"))).toEqual(["limits[0].cost.estimate: cost.estimate 61 exceeds burst 60: such a request can never pass"]);
    expect(messages(limit("cost: { response: tokens, guess: 1 }"))).toEqual(['limits[0].cost.guess: unknown key "guess"']);
    expect(messages(limit("concurrency: 0"))).toEqual(["limits[0].concurrency: expected a whole number from 1 to 1000000, got 0"]);
    expect(messages(limit("concurrency: 2, leaseTtl: soon"))).toEqual(['limits[0].leaseTtl: expected a duration up to 24h such as "30s", "2m" or "500ms", got "soon"']);
    expect(messages(limit("concurrency: 2, denyStatus: 500"))).toEqual(["limits[0].denyStatus: expected 429 or 503, got 500"]);
    expect(messages(limit("leaseTtl: 5s"))).toEqual(["limits[0].leaseTtl: leaseTtl applies only to a concurrency limit"]);
  });

  test("leaseTtl takes ms, s, m, h or plain seconds", () => {
    for (const [text, seconds] of [["500ms", 0.5], ["45s", 45], ["2m", 120], ["1h", 3600], ["90", 90]] as const) {
      expect(load(withFile(limit(`concurrency: 1, leaseTtl: ${text}`))).limits[0].concurrency?.leaseTtlSeconds).toBe(seconds);
    }
  });

  test("the ticket secret comes from SPOA_TICKET_SECRET or its file, is at least 16 characters and is never shown", () => {
    expect(load({ env: { SPOA_TICKET_SECRET: "0123456789abcdef" } }).haproxy.ticketSecret).toBe("0123456789abcdef");
    expect(load({ env: { SPOA_TICKET_SECRET_FILE: "/s" }, files: { "/s": "from a mounted secret\n" } }).haproxy.ticketSecret).toBe("from a mounted secret");
    expect(issuesOf({ env: { SPOA_TICKET_SECRET: "short" } }).map((i) => i.message)).toEqual(["the ticket secret must be at least 16 characters"]);
    const config = load({ env: { SPOA_TICKET_SECRET: "0123456789abcdef" } });
    expect(JSON.stringify(redactedConfig(config))).not.toContain("0123456789abcdef");
  });
});

describe("configWarnings() for limits that see the response", () => {
  test("warns once when no ticket secret is set, and not with one", async () => {
    const { configWarnings } = await import("../../src/config/warnings.ts");
    const without = configWarnings(load(withFile(LLM_GATEWAY_YAML)));
    expect(without.map((w) => w.path)).toEqual(["limits[0]"]);
    expect(without[0].message).toContain("SPOA_TICKET_SECRET is unset");
    expect(configWarnings(load(withFile(LLM_GATEWAY_YAML, { env: { SPOA_TICKET_SECRET: "0123456789abcdef" } })))).toEqual([]);
  });
});
