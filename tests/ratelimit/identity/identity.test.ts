import { describe, expect, test } from "bun:test";
import {
  compileIdentity,
  DEFAULT_IDENTITY_OPTIONS,
  MAX_FORWARDED_HOPS,
  resolveIdentity,
  UNKNOWN_IDENTITY,
} from "../../../src/ratelimit/identity/identity.ts";
import { formatIpv4, parseIp } from "../../../src/ratelimit/identity/ip.ts";
import type { IdentityOptions } from "../../../src/ratelimit/policy/types.ts";
import type { NamedData } from "../../../src/spop/types.ts";

const str = (name: string, value: string): NamedData => ({ name, kind: "string", value });
const ip = (name: string, text: string): NamedData => {
  const a = parseIp(text);
  if (a === undefined) throw new Error(`bad test address ${text}`);
  if (typeof a === "number") return { name, kind: "ipv4", value: a };
  return { name, kind: "ipv6", value: a };
};
/** IPv6 bytes exactly as given (parseIp would unmap an IPv4-mapped address). */
const rawV6 = (name: string, bytes: number[]): NamedData => ({ name, kind: "ipv6", value: new Uint8Array(bytes) });

const PROXY = "10.0.0.5";
const trusting: IdentityOptions = { ...DEFAULT_IDENTITY_OPTIONS, trustedProxies: ["10.0.0.0/8", "2001:db8:ffff::/48"] };

describe("resolveIdentity without trusted proxies (the default)", () => {
  test.each<[string, NamedData[], string]>([
    ["a typed IPv4 source", [ip("ip_src", "192.0.2.10")], "192.0.2.10"],
    ["a string IPv4 source", [str("ip_src", "192.0.2.10")], "192.0.2.10"],
    ["a string source with a port", [str("ip_src", "192.0.2.10:5555")], "192.0.2.10"],
    ["a typed IPv6 source, masked to /64", [ip("ip_src", "2001:db8:1:2:3:4:5:6")], "2001:db8:1:2::/64"],
    ["a string IPv6 source, full form", [str("ip_src", "2001:0db8:0001:0002:0003:0004:0005:0006")], "2001:db8:1:2::/64"],
    ["a string IPv6 source with a zone", [str("ip_src", "fe80::1%eth0")], "fe80::/64"],
    ["an IPv4-mapped typed IPv6 source", [rawV6("ip_src", [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 192, 0, 2, 1])], "192.0.2.1"],
    ["an IPv4-mapped string source", [str("ip_src", "::ffff:192.0.2.1")], "192.0.2.1"],
    ["a forwarded header from an untrusted source (ignored)", [str("ip_fwd", "for=198.51.100.1"), ip("ip_src", "10.0.0.5")], "10.0.0.5"],
    ["an XFF header from an untrusted source (ignored)", [str("ip_xff", "198.51.100.1"), ip("ip_src", "192.0.2.10")], "192.0.2.10"],
    ["no source at all", [str("ip_fwd", "for=198.51.100.1")], UNKNOWN_IDENTITY],
    ["a garbage source", [str("ip_src", "not an address")], UNKNOWN_IDENTITY],
    ["a null source", [{ name: "ip_src", kind: "null" }], UNKNOWN_IDENTITY],
  ])("keys %s", (_name, args, expected) => {
    expect(resolveIdentity(args, DEFAULT_IDENTITY_OPTIONS)).toBe(expected);
  });
});

describe("resolveIdentity with RFC 7239 Forwarded from a trusted proxy", () => {
  const cases: [string, string, string][] = [
    ["a single for", "for=192.0.2.43", "192.0.2.43"],
    ["the RFC example list, rightmost untrusted", 'for=192.0.2.43, for="[2001:db8:cafe::17]:4711";proto=https', "2001:db8:cafe::/64"],
    ["a case-insensitive For= with other pairs", "proto=http;For=192.0.2.60;by=203.0.113.43", "192.0.2.60"],
    ["a quoted IPv4 with port", 'for="192.0.2.43:47011"', "192.0.2.43"],
    ["trusted hops skipped from the right", "for=198.51.100.7, for=10.1.1.1, for=10.2.2.2", "198.51.100.7"],
    ["the rightmost untrusted, not the leftmost", "for=203.0.113.9, for=198.51.100.7, for=10.1.1.1", "198.51.100.7"],
    ["all trusted: the leftmost", "for=10.9.9.9, for=10.1.1.1", "10.9.9.9"],
    ["unknown skipped", "for=198.51.100.7, for=unknown", "198.51.100.7"],
    ["an obfuscated node skipped", 'for=198.51.100.7, for="_hidden", for=_SEVKISEK', "198.51.100.7"],
    ["an element without for skipped", "for=198.51.100.7, proto=https", "198.51.100.7"],
    ["multiple header lines joined", "for=203.0.113.1,for=198.51.100.7", "198.51.100.7"],
    ["an unbalanced quote on the left ignored", 'for="198.51.100.99, for=198.51.100.7', "198.51.100.7"],
    ["an unquoted IPv6 (invalid but common)", "for=2001:db8:5::1", "2001:db8:5::/64"],
    ["a mapped IPv6 in brackets", 'for="[::ffff:198.51.100.7]"', "198.51.100.7"],
    ["a trusted IPv6 proxy skipped", 'for=198.51.100.7, for="[2001:db8:ffff:1::2]"', "198.51.100.7"],
  ];
  test.each(cases)("reads %s", (_name, header, expected) => {
    expect(resolveIdentity([str("ip_fwd", header), ip("ip_src", PROXY)], trusting)).toBe(expected);
  });

  test("a typed forwarded address (rfc7239_n2nn) is used as is", () => {
    expect(resolveIdentity([ip("ip_fwd", "198.51.100.7"), ip("ip_src", PROXY)], trusting)).toBe("198.51.100.7");
    expect(resolveIdentity([ip("ip_fwd", "2001:db8:aa:bb:cc::1"), ip("ip_src", PROXY)], trusting)).toBe(
      "2001:db8:aa:bb::/64",
    );
  });

  test("a trusted IPv6 source is recognised too", () => {
    expect(resolveIdentity([str("ip_fwd", "for=198.51.100.7"), ip("ip_src", "2001:db8:ffff::9")], trusting)).toBe(
      "198.51.100.7",
    );
  });
});

describe("resolveIdentity with X-Forwarded-For from a trusted proxy", () => {
  test.each<[string, string, string]>([
    ["a single address", "198.51.100.7", "198.51.100.7"],
    ["trusted hops skipped from the right", "203.0.113.9, 198.51.100.7, 10.0.0.1, 10.0.0.2", "198.51.100.7"],
    ["all trusted: the leftmost", "10.3.3.3,10.0.0.1", "10.3.3.3"],
    ["an address with a port", "198.51.100.7:1234", "198.51.100.7"],
    ["a bracketed IPv6 with a port", "[2001:db8:7:8::1]:443", "2001:db8:7:8::/64"],
    ["garbage entries skipped", "198.51.100.7, garbage, unknown, ", "198.51.100.7"],
  ])("reads %s", (_name, header, expected) => {
    expect(resolveIdentity([str("ip_xff", header), ip("ip_src", PROXY)], trusting)).toBe(expected);
  });

  test("Forwarded wins over X-Forwarded-For", () => {
    const args = [str("ip_fwd", "for=198.51.100.1"), str("ip_xff", "198.51.100.2"), ip("ip_src", PROXY)];
    expect(resolveIdentity(args, trusting)).toBe("198.51.100.1");
  });

  test("X-Forwarded-For decides when Forwarded has no usable address", () => {
    const args = [str("ip_fwd", "for=unknown"), str("ip_xff", "198.51.100.2"), ip("ip_src", PROXY)];
    expect(resolveIdentity(args, trusting)).toBe("198.51.100.2");
  });
});

describe("resolveIdentity on garbage falls back without throwing", () => {
  const garbage: [string, string][] = [
    ["for= without value", "for="],
    ["for= with spaces only", "for=   ;proto=http"],
    ["unbalanced quotes only", 'for="192.0.2.1'],
    ["a lone quote", 'for="'],
    ["only separators", ",,,;;;,,"],
    ["a 100 KiB value", "for=198.51.100.7, ".repeat(6000)],
    ["a 100 KiB run without commas", "x".repeat(100 * 1024)],
    ["more entries than the hop cap", Array.from({ length: MAX_FORWARDED_HOPS + 2 }, () => "for=10.0.0.9").join(",")],
  ];
  test.each(garbage)("ignores %s and keys the source", (_name, header) => {
    expect(resolveIdentity([str("ip_fwd", header), str("ip_xff", header), ip("ip_src", PROXY)], trusting)).toBe(PROXY);
  });

  test("random strings never throw and always give an identity", () => {
    let seed = 12345;
    const rand = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
    const alphabet = 'for=;,"[]:.%_ abcdef0123456789\\\u0000\uffff';
    for (let n = 0; n < 2000; n++) {
      let value = "";
      const length = Math.floor(rand() * 80);
      for (let i = 0; i < length; i++) value += alphabet[Math.floor(rand() * alphabet.length)];
      const identity = resolveIdentity([str("ip_fwd", value), str("ip_xff", value), ip("ip_src", PROXY)], trusting);
      expect(typeof identity).toBe("string");
      expect(identity.length).toBeGreaterThan(0);
    }
  });

  test("binary and integer forwarded args are ignored", () => {
    const args: NamedData[] = [
      { name: "ip_fwd", kind: "binary", value: new Uint8Array([1, 2, 3]) },
      { name: "ip_xff", kind: "int32", value: 7 },
      ip("ip_src", PROXY),
    ];
    expect(resolveIdentity(args, trusting)).toBe(PROXY);
  });
});

describe("IPv6 prefix options", () => {
  test.each<[number, string]>([
    [64, "2001:db8:1:2::/64"],
    [48, "2001:db8:1::/48"],
    [128, "2001:db8:1:2:3:4:5:6/128"],
    [0, "::/0"],
  ])("/%i keys the masked network with its suffix", (prefix, expected) => {
    const resolver = compileIdentity({ ...DEFAULT_IDENTITY_OPTIONS, ipv6PrefixLength: prefix });
    expect(resolver.resolve([ip("ip_src", "2001:db8:1:2:3:4:5:6")])).toBe(expected);
  });

  test("two hosts of one /64 share an identity, another /64 does not", () => {
    const a = resolveIdentity([ip("ip_src", "2001:db8:1:2::a")], DEFAULT_IDENTITY_OPTIONS);
    const b = resolveIdentity([ip("ip_src", "2001:db8:1:2::b")], DEFAULT_IDENTITY_OPTIONS);
    const c = resolveIdentity([ip("ip_src", "2001:db8:1:3::a")], DEFAULT_IDENTITY_OPTIONS);
    expect(a).toBe(b);
    expect(a).not.toBe(c);
  });

  test("custom argument names are honoured", () => {
    const options: IdentityOptions = {
      trustedProxies: ["127.0.0.1"],
      ipv6PrefixLength: 64,
      forwardedArg: "fwd",
      xffArg: "xff",
      sourceArg: "src",
    };
    expect(resolveIdentity([str("xff", "198.51.100.3"), ip("src", "127.0.0.1")], options)).toBe("198.51.100.3");
    expect(resolveIdentity([str("ip_xff", "198.51.100.3"), ip("src", "127.0.0.1")], options)).toBe("127.0.0.1");
  });

  test("compileIdentity rejects an invalid trusted proxy", () => {
    expect(() => compileIdentity({ ...DEFAULT_IDENTITY_OPTIONS, trustedProxies: ["10.0.0.0/99"] })).toThrow(RangeError);
  });
});

describe("compileIdentity with many clients", () => {
  test("40,000 IPv4 and IPv6 clients each resolve to their own text, on first and repeated requests in any order", () => {
    const resolver = compileIdentity(DEFAULT_IDENTITY_OPTIONS);
    const v4 = Array.from({ length: 20_000 }, (_, i) => (0xc6120000 + i * 7) >>> 0);
    const v6 = Array.from({ length: 20_000 }, (_, i) => [0x20, 0x01, 0x0d, 0xb8, (i + 1) >>> 8, (i + 1) & 255, 0, 0, 0, 0, 0, 0, 0, 0, 0, i & 255]);
    const expected = (k: number) =>
      k < v4.length ? formatIpv4(v4[k]) : `2001:db8:${((v6[k - v4.length][4] << 8) | v6[k - v4.length][5]).toString(16)}::/64`;
    const args = (k: number): NamedData[] => [
      k < v4.length ? { name: "ip_src", kind: "ipv4", value: v4[k] } : rawV6("ip_src", v6[k - v4.length]),
    ];
    for (const order of [(k: number) => k, (k: number) => 39_999 - k, (k: number) => (k * 7_919) % 40_000]) {
      for (let n = 0; n < 40_000; n++) expect(resolver.resolve(args(order(n)))).toBe(expected(order(n)));
    }
  });
});
