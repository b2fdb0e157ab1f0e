import { describe, expect, test } from "bun:test";
import { escapeIdentity, fnv1a32Hex, hashTagOf, keyTag, limitKey, limitKeyShape, paramsHash, SplitKeyCheck } from "../../../src/ratelimit/identity/keys.ts";
import type { GcraParams } from "../../../src/ratelimit/store.ts";

const P: GcraParams = { emissionIntervalUs: 10_000, burstToleranceUs: 200_000 };

describe("limitKey()", () => {
  test("builds <prefix>{<identity>}:<limit>:<8 hex params hash>", () => {
    const key = limitKey("rl:", "203.0.113.7", "per-ip", P);
    expect(key).toBe(`rl:{203.0.113.7}:per-ip:${paramsHash(P)}`);
    expect(key).toMatch(/^rl:\{203\.0\.113\.7\}:per-ip:[0-9a-f]{8}$/);
  });

  test("puts every limit of one identity under the same hash tag", () => {
    const a = limitKey("rl:", "2001:db8::/64", "per-ip", P);
    const b = limitKey("rl:", "2001:db8::/64", "login", { emissionIntervalUs: 1_000_000, burstToleranceUs: 0 });
    expect(hashTagOf(a)).toBe("2001:db8::/64");
    expect(hashTagOf(b)).toBe(hashTagOf(a));
  });

  test("changes the key when T or τ changes, so a new rate starts fresh", () => {
    const base = limitKey("rl:", "x", "l", P);
    expect(limitKey("rl:", "x", "l", { ...P, emissionIntervalUs: 10_001 })).not.toBe(base);
    expect(limitKey("rl:", "x", "l", { ...P, burstToleranceUs: 190_000 })).not.toBe(base);
    expect(limitKey("rl:", "x", "l", { ...P })).toBe(base);
  });

  test("escapes braces so an identity cannot move the hash tag", () => {
    const key = limitKey("rl:", "a}b{c", "l", P);
    expect(hashTagOf(key)).toBe("a%7Db%7Bc");
    expect(hashTagOf(limitKey("rl:", "}", "l", P))).toBe("%7D");
    expect(hashTagOf(limitKey("rl:", "", "l", P))).toBe("%");
  });

  test("rejects a prefix containing a brace with RangeError", () => {
    expect(() => limitKey("rl{", "x", "l", P)).toThrow(RangeError);
    expect(() => limitKey("rl}", "x", "l", P)).toThrow(RangeError);
  });
});

describe("escapeIdentity()", () => {
  test("is injective on identities built from the special characters", () => {
    const alphabet = ["%", "{", "}", "7", "B", "D", "2", "5"];
    const identities = new Set<string>([""]);
    for (const a of alphabet) {
      identities.add(a);
      for (const b of alphabet) {
        identities.add(a + b);
        for (const c of alphabet) identities.add(a + b + c);
      }
    }
    const escaped = new Set([...identities].map(escapeIdentity));
    expect(escaped.size).toBe(identities.size);
    for (const e of escaped) expect(e).not.toMatch(/[{}]/);
  });

  test("leaves ordinary identities untouched", () => {
    expect(escapeIdentity("203.0.113.7")).toBe("203.0.113.7");
  });

  test("braces the first part of a multi-part key alone, so a cluster hashes every [identity, …] key with [identity]", () => {
    const alone = limitKey("rl:", "203.0.113.7", "per-ip", P);
    const withHost = limitKey("rl:", "203.0.113.7|example.com", "login", P);
    const withPath = limitKey("rl:", "203.0.113.7|/api/v1|x", "api", P);
    expect(withHost).toBe(`rl:{203.0.113.7}|{example.com}:login:${paramsHash(P)}`);
    expect(new Set([alone, withHost, withPath].map(hashTagOf))).toEqual(new Set(["203.0.113.7"]));
    // Still one key per tuple: the brace pair comes from the first separator only.
    expect(escapeIdentity("a|b|c")).not.toBe(escapeIdentity("a|b}|{c"));
    expect(escapeIdentity("a{b|c")).toBe("a%7Bb}|{c");
  });
});

describe("keyTag()", () => {
  test.each(["203.0.113.7", "", "%", "{", "}", "a{b}c%d", "ключ", "2001:db8::/64", "a|b|c", "{|}"])("equals escapeIdentity for %p", (identity) => {
    expect(keyTag(identity)).toBe(escapeIdentity(identity));
  });
});

describe("SplitKeyCheck", () => {
  const params = { emissionIntervalUs: 1_000, burstToleranceUs: 5_000 };

  test("its key is limitKey's text, and JSON shows the plain LimitCheck", () => {
    const shape = limitKeyShape("rl:", { name: "login", params });
    const check = new SplitKeyCheck(keyTag("a{b}"), { shape, params, cost: 2, shadow: true });
    expect(check.key).toBe(limitKey("rl:", "a{b}", "login", params));
    expect(JSON.parse(JSON.stringify(check))).toEqual({ key: check.key, params, cost: 2, shadow: true });
  });

  test("limitKeyShape rejects a prefix with a brace with RangeError", () => {
    expect(() => limitKeyShape("r{l", { name: "x", params })).toThrow(RangeError);
  });
});

describe("hashTagOf()", () => {
  test("follows the Valkey Cluster rule: first { to the next }, else the whole key", () => {
    expect(hashTagOf("rl:{user1}:x")).toBe("user1");
    expect(hashTagOf("plain")).toBe("plain");
    expect(hashTagOf("a{}b{c}")).toBe("a{}b{c}");
    expect(hashTagOf("a{b")).toBe("a{b");
    expect(hashTagOf("{a}{b}")).toBe("a");
    expect(hashTagOf("x{{a}}")).toBe("{a");
  });
});

describe("fnv1a32Hex()", () => {
  test("matches the published FNV-1a 32 test values", () => {
    expect(fnv1a32Hex("")).toBe("811c9dc5");
    expect(fnv1a32Hex("a")).toBe("e40c292c");
    expect(fnv1a32Hex("foobar")).toBe("bf9cf968");
  });
});
