import { describe, expect, test } from "bun:test";
import { keyTag, limitKey, limitKeyShape } from "../../../src/ratelimit/identity/keys.ts";
import { Fingerprinter, restHash } from "../../../src/ratelimit/memory/key-hash.ts";

const PARAMS = { emissionIntervalUs: 10_000, burstToleranceUs: 200_000 };

function ofKey(f: Fingerprinter, key: string): string {
  f.ofKey(key);
  return `${f.out[0]}:${f.out[1]}`;
}

describe("Fingerprinter", () => {
  test("ofTag with a limit's rest equals ofKey of the joined key, for escaped and plain identities", () => {
    const f = new Fingerprinter(9);
    for (const prefix of ["rl:", "", "a:b:"]) {
      for (const name of ["default", "login", "x"]) {
        const shape = limitKeyShape(prefix, { name, params: PARAMS });
        for (const identity of ["192.0.2.1", "2001:db8::/64", "", "a{b}c", "100%", "ключ", "😀"]) {
          f.ofTag(keyTag(identity), shape.rest);
          const fromParts = `${f.out[0]}:${f.out[1]}`;
          expect(ofKey(f, limitKey(prefix, identity, name, PARAMS))).toBe(fromParts);
        }
      }
    }
  });

  test("200,000 distinct address keys get distinct 64-bit fingerprints; lane A alone collides like a random 32-bit hash", () => {
    const f = new Fingerprinter(1);
    const rest = restHash("rl:{", "}:default:0badf00d");
    const prints = new Set<string>();
    const laneA = new Set<number>();
    const n = 200_000;
    for (let i = 0; i < n; i++) {
      f.ofTag(`10.${(i >>> 16) & 255}.${(i >>> 8) & 255}.${i & 255}`, rest);
      prints.add(`${f.out[0]}:${f.out[1]}`);
      laneA.add(f.out[0]);
    }
    expect(prints.size).toBe(n);
    // Expected lane-A collisions for n random 32-bit values: n²/2³³ ≈ 4.7.
    expect(n - laneA.size).toBeLessThan(25);
  });

  test("the same key under another seed, or under another limit's rest, gets another fingerprint", () => {
    const key = "rl:{192.0.2.1}:default:0badf00d";
    expect(ofKey(new Fingerprinter(1), key)).toBe(ofKey(new Fingerprinter(1), key));
    expect(ofKey(new Fingerprinter(1), key)).not.toBe(ofKey(new Fingerprinter(2), key));
    const f = new Fingerprinter(3);
    expect(ofKey(f, "rl:{192.0.2.1}:default:0badf00d")).not.toBe(ofKey(f, "rl:{192.0.2.1}:login:0badf00d"));
    expect(ofKey(f, "rl:{192.0.2.1}:x")).not.toBe(ofKey(f, "rl:{192.0.2.2}:x"));
  });

  test("keys without a non-empty tag are fingerprinted whole, apart from each other and from tagged keys", () => {
    const f = new Fingerprinter(4);
    const keys = ["", "abc", "a{}b", "a{b", "a}b{", "{abc}", "x{abc}", "{abc}x"];
    const prints = new Set(keys.map((k) => ofKey(f, k)));
    expect(prints.size).toBe(keys.length);
  });
});
