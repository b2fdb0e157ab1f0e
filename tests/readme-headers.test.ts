// The README explains the RateLimit headers the agent writes: the draft version it names is the
// one the code implements, and its worked example is what the code computes for the demo's limit.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { defaultLimit } from "../src/config/limits.ts";
import { policyItem, rateLimitField } from "../src/ratelimit/answer/ratelimit-headers.ts";

const ROOT = resolve(import.meta.dir, "..");
const README = readFileSync(resolve(ROOT, "README.md"), "utf8");
const SOURCE = readFileSync(resolve(ROOT, "src/ratelimit/answer/ratelimit-headers.ts"), "utf8");

describe("README: what the RateLimit headers say", () => {
  test("names the draft version the code implements and explains q, w, r and t", () => {
    const draft = /draft-ietf-httpapi-ratelimit-headers-\d+/.exec(SOURCE)?.[0];
    expect(draft).toBeDefined();
    const section = README.slice(README.indexOf("### What the RateLimit headers say"), README.indexOf("## Policies"));
    expect(section).toContain(draft!);
    for (const parameter of ["`q`", "`w`", "`r`", "`t`"]) expect(section).toContain(`| ${parameter} |`);
  });

  test("its example is what the agent computes for the demo's limit (SPOA_RATE_INTERVAL=1000000 SPOA_RATE_BURST=9000000)", () => {
    const limit = defaultLimit({ intervalUs: 1_000_000, burstUs: 9_000_000, messages: ["check-rate"] });
    expect(README).toContain(`\`RateLimit-Policy: ${policyItem(limit)}\``);
    // After one request of a fresh key: 9 left, the burst is whole again after one T (1 s).
    expect(README).toContain(`\`RateLimit: ${rateLimitField(limit.name, limit.burst - 1, 1_000_000)}\``);
  });
});
