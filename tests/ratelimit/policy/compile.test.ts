import { describe, expect, test } from "bun:test";
import { limitKey } from "../../../src/ratelimit/identity/keys.ts";
import { compilePolicies, pathPrefix, PolicyError } from "../../../src/ratelimit/policy/compile.ts";
import { keyPartText, MAX_KEY_PART_CHARS } from "../../../src/ratelimit/policy/key-text.ts";
import { parseIp } from "../../../src/ratelimit/identity/ip.ts";
import type { LimitDefinition } from "../../../src/ratelimit/policy/types.ts";
import type { Message, NamedData } from "../../../src/spop/types.ts";

const PARAMS = { emissionIntervalUs: 10_000, burstToleranceUs: 200_000 };

function limit(overrides: Partial<LimitDefinition> & { name: string }): LimitDefinition {
  return {
    messages: ["check-rate"],
    match: [],
    key: [{ kind: "identity" }],
    count: 100,
    periodSeconds: 1,
    burst: 21,
    params: PARAMS,
    cost: { kind: "constant", value: 1 },
    shadow: false,
    ...overrides,
  };
}

const str = (name: string, value: string): NamedData => ({ name, kind: "string", value });
const msg = (args: NamedData[], name = "check-rate"): Message => ({ name, args });
const names = (set: ReturnType<typeof compilePolicies>, m: Message) =>
  set.checksFor(m, "192.0.2.1")?.limits.map((l) => l.name) ?? [];

describe("compilePolicies matching", () => {
  const set = compilePolicies(
    [
      limit({ name: "all" }),
      limit({ name: "login", match: [{ arg: "path", kind: "exact", value: "/login" }] }),
      limit({ name: "api", match: [{ arg: "path", kind: "prefix", value: "/api/" }] }),
      limit({ name: "numeric", match: [{ arg: "path", kind: "regex", pattern: "^/item/\\d+$" }] }),
      limit({ name: "writes", match: [{ arg: "method", kind: "in", values: ["POST", "PUT", "DELETE"] }] }),
      limit({ name: "office", match: [{ arg: "ip_src", kind: "cidr", cidrs: ["192.0.2.0/24", "2001:db8::/32"] }] }),
      limit({
        name: "api-writes",
        match: [{ arg: "path", kind: "prefix", value: "/api/" }, { arg: "method", kind: "in", values: ["POST"] }],
      }),
      limit({ name: "other-message", messages: ["check-login"] }),
    ],
    { keyPrefix: "rl:" },
  );

  test.each<[string, NamedData[], string[]]>([
    ["no args: only the unconditional limit", [], ["all"]],
    ["an exact path", [str("path", "/login")], ["all", "login"]],
    ["exact is not prefix", [str("path", "/login/x")], ["all"]],
    ["a prefix", [str("path", "/api/v1")], ["all", "api"]],
    ["a regex", [str("path", "/item/42")], ["all", "numeric"]],
    ["a regex mismatch", [str("path", "/item/4x")], ["all"]],
    ["an in-list, case-sensitive", [str("method", "post")], ["all"]],
    ["an in-list hit", [str("method", "DELETE")], ["all", "writes"]],
    ["all conditions of one limit", [str("path", "/api/x"), str("method", "POST")], ["all", "api", "writes", "api-writes"]],
    ["a cidr on a typed IPv4", [{ name: "ip_src", kind: "ipv4", value: parseIp("192.0.2.77") as number }], ["all", "office"]],
    ["a cidr on a string IPv6", [str("ip_src", "2001:db8:1::1")], ["all", "office"]],
    ["a cidr miss", [str("ip_src", "198.51.100.1")], ["all"]],
    ["a cidr on garbage", [str("ip_src", "x")], ["all"]],
  ])("selects limits for %s", (_name, args, expected) => {
    expect(names(set, msg(args))).toEqual(expected);
  });

  test("only limits listening to the message name apply", () => {
    expect(names(set, msg([], "check-login"))).toEqual(["other-message"]);
    expect(set.checksFor(msg([], "nothing"), "x")).toBeUndefined();
    expect(set.handles("check-login")).toBe(true);
    expect(set.handles("nothing")).toBe(false);
  });

  test("a regex never runs on an input longer than the cap", () => {
    const long = compilePolicies([limit({ name: "any", match: [{ arg: "p", kind: "regex", pattern: "a" }] })], { keyPrefix: "" });
    expect(names(long, msg([str("p", "a".repeat(5000))]))).toEqual([]);
    expect(names(long, msg([str("p", "a")]))).toEqual(["any"]);
  });

  test("returns undefined when no condition holds", () => {
    const only = compilePolicies([limit({ name: "login", match: [{ arg: "path", kind: "exact", value: "/login" }] })], {
      keyPrefix: "",
    });
    expect(only.checksFor(msg([str("path", "/")]), "x")).toBeUndefined();
  });
});

describe("compilePolicies alignment", () => {
  const set = compilePolicies(
    [
      limit({ name: "first" }),
      limit({ name: "login", match: [{ arg: "path", kind: "exact", value: "/login" }] }),
      limit({ name: "last", cost: { kind: "constant", value: 3 } }),
      limit({ name: "elsewhere", messages: ["other"] }),
    ],
    { keyPrefix: "rl:" },
  );
  const view = (m: Message) => {
    const r = set.checksFor(m, "192.0.2.1")!;
    return { limits: r.limits.map((l) => l.name), items: r.limits.map((l) => l.answer.policyItem), costs: r.checks.map((c) => c.cost), keys: r.checks.map((c) => c.key) };
  };

  test("when a middle limit does not match, checks, limits and policy items stay index-aligned", () => {
    const skipped = view(msg([str("path", "/")]));
    expect(skipped.limits).toEqual(["first", "last"]);
    expect(skipped.items).toEqual(['"first";q=100;w=1', '"last";q=100;w=1']);
    expect(skipped.costs).toEqual([1, 3]);
    expect(skipped.keys).toEqual([limitKey("rl:", "192.0.2.1", "first", PARAMS), limitKey("rl:", "192.0.2.1", "last", PARAMS)]);
    expect(view(msg([str("path", "/login")])).limits).toEqual(["first", "login", "last"]);
  });

  test("alternating message names each get their own limits", () => {
    for (let i = 0; i < 3; i++) {
      expect(set.handles("other")).toBe(true);
      expect(view(msg([], "other")).limits).toEqual(["elsewhere"]);
      expect(set.handles("nope")).toBe(false);
      expect(set.checksFor(msg([], "nope"), "x")).toBeUndefined();
      expect(view(msg([str("path", "/")])).limits).toEqual(["first", "last"]);
    }
  });
});

describe("compilePolicies keys", () => {
  test("an identity key is limitKey(prefix, identity, name, params)", () => {
    const set = compilePolicies([limit({ name: "default" })], { keyPrefix: "rl:" });
    const checks = set.checksFor(msg([]), "192.0.2.1")!.checks.map((c) => ({ key: c.key, params: c.params, cost: c.cost, shadow: c.shadow }));
    expect(checks).toEqual([{ key: limitKey("rl:", "192.0.2.1", "default", PARAMS), params: PARAMS, cost: 1, shadow: false }]);
  });

  test.each(["192.0.2.1", "", "a{b}c", "100%", "2001:db8::/64"])("the key for identity %p equals limitKey's", (identity) => {
    const set = compilePolicies([limit({ name: "default" })], { keyPrefix: "rl:" });
    expect(set.checksFor(msg([]), identity)!.checks[0].key).toBe(limitKey("rl:", identity, "default", PARAMS));
  });

  test("key tuples are unambiguous: (a|b, c) and (a, b|c) differ", () => {
    const set = compilePolicies(
      [limit({ name: "pair", key: [{ kind: "arg", arg: "x" }, { kind: "arg", arg: "y" }] })],
      { keyPrefix: "" },
    );
    const k1 = set.checksFor(msg([str("x", "a|b"), str("y", "c")]), "id")!.checks[0].key;
    const k2 = set.checksFor(msg([str("x", "a"), str("y", "b|c")]), "id")!.checks[0].key;
    const k3 = set.checksFor(msg([str("x", "a%7Cb"), str("y", "c")]), "id")!.checks[0].key;
    expect(new Set([k1, k2, k3]).size).toBe(3);
  });

  test("identity, arg and path-prefix parts combine; a missing arg keys as empty", () => {
    const set = compilePolicies(
      [limit({
        name: "per-path",
        key: [{ kind: "identity" }, { kind: "path-prefix", arg: "path", segments: 2 }, { kind: "arg", arg: "host" }],
      })],
      { keyPrefix: "rl:" },
    );
    const key = set.checksFor(msg([str("path", "/api/v1/users/7?x=1")]), "192.0.2.1")!.checks[0].key;
    expect(key).toBe(limitKey("rl:", "192.0.2.1|/api/v1|", "per-path", PARAMS));
  });

  test("a huge argument is shortened to a head and a hash", () => {
    const a = keyPartText("x".repeat(10_000));
    const b = keyPartText("x".repeat(9_999) + "y");
    expect(a.length).toBeLessThanOrEqual(MAX_KEY_PART_CHARS);
    expect(a).not.toBe(b);
    expect(keyPartText("~")).not.toContain("~");
  });

  test("pathPrefix keeps the first segments and drops the query", () => {
    expect(pathPrefix("/api/v1/x", 2)).toBe("/api/v1");
    expect(pathPrefix("/api/v1/x", 1)).toBe("/api");
    expect(pathPrefix("/api", 3)).toBe("/api");
    expect(pathPrefix("/api?q=/a/b", 2)).toBe("/api");
    expect(pathPrefix("/", 1)).toBe("/");
  });
});

describe("compilePolicies cost and shadow", () => {
  const set = compilePolicies(
    [limit({ name: "weighted", cost: { kind: "arg", arg: "cost", default: 3, max: 50 } }), limit({ name: "watch", shadow: true })],
    { keyPrefix: "" },
  );
  const costOf = (args: NamedData[]) => set.checksFor(msg(args), "id")!.checks[0].cost;

  test.each<[string, NamedData[], number]>([
    ["missing", [], 3],
    ["an int32", [{ name: "cost", kind: "int32", value: 7 }], 7],
    ["a uint64 bigint over max", [{ name: "cost", kind: "uint64", value: 2n ** 60n }], 50],
    ["a negative int64", [{ name: "cost", kind: "int64", value: -4 }], 0],
    ["a decimal string", [str("cost", " 12 ")], 12],
    ["a string over max", [str("cost", "999")], 50],
    ["a negative string", [str("cost", "-2")], 0],
    ["a non-numeric string", [str("cost", "12abc")], 3],
    ["a fractional string", [str("cost", "1.5")], 3],
    ["a bool", [{ name: "cost", kind: "bool", value: true }], 3],
  ])("reads the cost from %s", (_name, args, expected) => {
    expect(costOf(args)).toBe(expected);
  });

  test("a shadow limit yields a shadow check", () => {
    expect(set.checksFor(msg([]), "id")!.checks.map((c) => c.shadow)).toEqual([false, true]);
  });

  test("policy items are pre-formatted per matching limit", () => {
    expect(set.checksFor(msg([]), "id")!.limits.map((l) => l.answer.policyItem)).toEqual(['"weighted";q=100;w=1', '"watch";q=100;w=1']);
  });
});

describe("compilePolicies errors", () => {
  test.each<[string, LimitDefinition[], string]>([
    ["a duplicate name", [limit({ name: "a" }), limit({ name: "a" })], ""],
    ["an invalid regex", [limit({ name: "a", match: [{ arg: "p", kind: "regex", pattern: "(" }] })], ""],
    ["an invalid cidr", [limit({ name: "a", match: [{ arg: "p", kind: "cidr", cidrs: ["nope"] }] })], ""],
    ["a prefix with a brace", [limit({ name: "a" })], "rl{"],
  ])("throws PolicyError on %s", (_name, limits, prefix) => {
    expect(() => compilePolicies(limits, { keyPrefix: prefix })).toThrow(PolicyError);
  });
});
