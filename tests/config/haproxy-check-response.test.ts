// check-config --haproxy for limits that see the response: the shipped files fit the LLM-gateway
// policy; a missing response message, ticket or cost argument is an error naming what breaks;
// a 503 concurrency limit without the 503 rule is a warning.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { checkHaproxy } from "../../src/config/haproxy/check.ts";
import { formatFinding } from "../../src/config/haproxy/findings.ts";
import { loadConfig } from "../../src/config/load.ts";

const ROOT = resolve(import.meta.dir, "../..");
const shipped = (name: string) => readFileSync(resolve(ROOT, "deploy", name), "utf8");
const CFG = shipped("haproxy/haproxy.cfg");
const SPOE = shipped("haproxy/spoe-ratelimit.conf");
const LLM = shipped("policy.llm-gateway.yaml");

function findings(o: { cfg?: string; spoe?: string; policy?: string }): string[] {
  const texts: Record<string, string> = { "/h.cfg": o.cfg ?? CFG, "/s.conf": o.spoe ?? SPOE };
  const config = loadConfig({ args: { flags: { config: "/p.yaml" } }, env: {}, readFile: () => o.policy ?? LLM });
  return checkHaproxy({ config, haproxyFile: "/h.cfg", spoeFile: "/s.conf", env: {}, readFile: (p) => texts[p] ?? "" }).map(formatFinding);
}

describe("checkHaproxy() with limits that see the response", () => {
  test("the shipped haproxy.cfg and spoe-ratelimit.conf fit deploy/policy.llm-gateway.yaml", () => {
    expect(findings({})).toEqual([]);
  });

  test("no check-response message: an error saying tokens are never charged and slots wait for leaseTtl", () => {
    const spoe = SPOE.replace("messages check-rate check-response", "messages check-rate");
    const [finding, ...rest] = findings({ spoe });
    expect(rest).toEqual([]);
    expect(finding).toContain("error: limits[0] (tokens-per-key) sees the response, but spoe-agent ratelimit-agent does not send check-response: tokens are never charged");
  });

  test("the response message without the ticket, on the wrong event, or without the cost's argument: one error each", () => {
    expect(findings({ spoe: SPOE.replace("args ticket=var(txn.rl.ticket) ", "args ") }).join("\n")).toContain("does not send ticket=var(txn.rl.ticket)");
    expect(findings({ spoe: SPOE.replace("event on-http-response", "event on-frontend-http-request") }).join("\n")).toContain("is not sent on on-http-response");
    const noTokens = findings({ spoe: SPOE.replace(" tokens=res.hdr(x-tokens-used)", "") });
    expect(noTokens).toHaveLength(2);
    expect(noTokens[0]).toContain('limits[0].cost.response (tokens-per-key) reads argument "tokens", which spoe-message check-response does not send');
  });

  test("a concurrency limit asking for 503 without a rule reading deny_status: a warning (its denials are 429)", () => {
    const policy = LLM.replace("denyStatus: 429", "denyStatus: 503");
    expect(findings({ policy })).toEqual([]);
    const cfg = CFG.split("\n").filter((l) => !l.includes("txn.rl.deny_status")).join("\n");
    const [warning, ...rest] = findings({ cfg, policy });
    expect(rest).toEqual([]);
    expect(warning).toContain("warning: limits[0] (tokens-per-key) asks for 503, but no http-request rule reads txn.rl.deny_status");
  });

  test("a policy without such limits is not asked for the response message", () => {
    expect(findings({ spoe: SPOE.replace("messages check-rate check-response", "messages check-rate"), policy: "{ listen: 127.0.0.1:12345 }\n" })).toEqual([]);
  });
});
