import { describe, expect, test } from "bun:test";
import {
  addressFromBytes,
  formatIp,
  formatIpv4,
  formatIpv6,
  maskIpv6,
  parseCidr,
  parseCidrList,
  parseHostAddress,
  parseIp,
} from "../../../src/ratelimit/identity/ip.ts";

const text = (s: string) => {
  const a = parseIp(s);
  return a === undefined ? undefined : formatIp(a);
};

describe("parseIp", () => {
  test.each([
    ["192.0.2.10", "192.0.2.10"],
    ["0.0.0.0", "0.0.0.0"],
    ["255.255.255.255", "255.255.255.255"],
    ["2001:db8::1", "2001:db8::1"],
    ["2001:0DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1"],
    ["::", "::"],
    ["::1", "::1"],
    ["1::", "1::"],
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
    ["2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"],
    ["::ffff:192.0.2.1", "192.0.2.1"],
    ["::FFFF:c000:0201", "192.0.2.1"],
    ["fe80::1%eth0", "fe80::1"],
    ["64:ff9b::192.0.2.33", "64:ff9b::c000:221"],
  ])("reads %s as %s", (input, expected) => {
    expect(text(input)).toBe(expected);
  });

  test.each([
    "", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1.2.3.4 ", "1..2.3", "a.b.c.d", ":::", "1:::2",
    "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7::8:9", "12345::", "::1::", "1:", ":1", "g::1", "1.2.3.4%eth0",
    "::ffff:1.2.3", "1:2:3:4:5:6:7:1.2.3.4", "x".repeat(100_000), "[::1]", "unknown", "_hidden",
  ])("rejects %p without throwing", (input) => {
    expect(parseIp(input)).toBeUndefined();
  });

  test("returns IPv4 as the uint32 host-order number SPOP uses", () => {
    expect(parseIp("192.0.2.10")).toBe(0xc000020a);
  });
});

describe("parseHostAddress", () => {
  test.each([
    ["[2001:db8:cafe::17]:4711", "2001:db8:cafe::17"],
    ["[2001:db8::1]", "2001:db8::1"],
    ["192.0.2.43:8080", "192.0.2.43"],
    ["  192.0.2.43 ", "192.0.2.43"],
    ["2001:db8::1", "2001:db8::1"],
    ["[::ffff:10.0.0.1]:80", "10.0.0.1"],
  ])("reads %p as %s", (input, expected) => {
    const a = parseHostAddress(input);
    expect(a === undefined ? undefined : formatIp(a)).toBe(expected);
  });

  test.each(["[2001:db8::1", "[2001:db8::1]:", "[2001:db8::1]:123456", "192.0.2.1:", "192.0.2.1:x", "[192.0.2.1]:80", "1.2.3.4:5:6"])(
    "rejects %p",
    (input) => {
      expect(parseHostAddress(input)).toBeUndefined();
    },
  );
});

describe("formatting", () => {
  test("formatIpv4 writes a dotted quad", () => {
    expect(formatIpv4(0xc000020a)).toBe("192.0.2.10");
  });

  test("formatIpv6 compresses the first of two equal zero runs (RFC 5952 §4.2.3)", () => {
    const bytes = parseIp("2001:db8:0:0:1:0:0:1") as Uint8Array;
    expect(formatIpv6(bytes)).toBe("2001:db8::1:0:0:1");
  });

  test("formatIpv6 does not compress a single zero group (RFC 5952 §4.2.2)", () => {
    expect(formatIpv6(parseIp("2001:db8:0:1:1:1:1:1") as Uint8Array)).toBe("2001:db8:0:1:1:1:1:1");
  });

  test("addressFromBytes reads 4 network-order bytes and unmaps IPv4-mapped IPv6", () => {
    expect(addressFromBytes(new Uint8Array([192, 0, 2, 10]))).toBe(0xc000020a);
    const mapped = new Uint8Array(16);
    mapped.set([0xff, 0xff, 192, 0, 2, 10], 10);
    expect(addressFromBytes(mapped)).toBe(0xc000020a);
    expect(addressFromBytes(new Uint8Array(5))).toBeUndefined();
  });
});

describe("maskIpv6", () => {
  test.each([
    [64, "2001:db8:1:7::"],
    [48, "2001:db8:1::"],
    [52, "2001:db8:1::"],
    [60, "2001:db8:1::"],
    [61, "2001:db8:1::"],
    [62, "2001:db8:1:4::"],
    [0, "::"],
    [128, "2001:db8:1:7:aaaa:bbbb:cccc:dddd"],
  ])("keeps the first %i bits", (bits, expected) => {
    const bytes = parseIp("2001:db8:1:7:aaaa:bbbb:cccc:dddd") as Uint8Array;
    expect(formatIpv6(maskIpv6(bytes, bits))).toBe(expected);
  });

  test("does not modify its input", () => {
    const bytes = parseIp("2001:db8::ffff:1") as Uint8Array;
    maskIpv6(bytes, 64);
    expect(formatIpv6(bytes)).toBe("2001:db8::ffff:1");
  });
});

describe("CIDR", () => {
  test("parseCidr clears host bits and maps IPv4-mapped /96+ blocks to IPv4", () => {
    expect(parseCidr("10.1.2.3/8")).toEqual({ kind: "v4", network: 0x0a000000, mask: 0xff000000, prefixLength: 8 });
    expect(parseCidr("::ffff:10.0.0.0/104")).toEqual({ kind: "v4", network: 0x0a000000, mask: 0xff000000, prefixLength: 8 });
    expect(parseCidr("192.0.2.1")?.prefixLength).toBe(32);
    expect(parseCidr("2001:db8::/33")?.prefixLength).toBe(33);
  });

  test.each(["10.0.0.0/33", "2001:db8::/129", "10.0.0.0/", "10.0.0.0/-1", "garbage/8", "::ffff:10.0.0.0/64"])(
    "parseCidr rejects %p",
    (input) => {
      expect(parseCidr(input)).toBeUndefined();
    },
  );

  test("parseCidrList matches IPv4 and IPv6 members and nothing else", () => {
    const set = parseCidrList(["10.0.0.0/8", "192.0.2.7", "2001:db8:ab00::/40"]);
    expect(set.contains(parseIp("10.200.3.4")!)).toBe(true);
    expect(set.contains(parseIp("11.0.0.1")!)).toBe(false);
    expect(set.contains(parseIp("192.0.2.7")!)).toBe(true);
    expect(set.contains(parseIp("192.0.2.8")!)).toBe(false);
    expect(set.contains(parseIp("2001:db8:abff::1")!)).toBe(true);
    expect(set.contains(parseIp("2001:db8:ac00::1")!)).toBe(false);
    expect(set.contains(parseIp("::ffff:10.0.0.1")!)).toBe(true);
    expect(set.empty).toBe(false);
  });

  test("parseCidrList with /0 contains every address of that family", () => {
    const set = parseCidrList(["0.0.0.0/0"]);
    expect(set.contains(parseIp("255.255.255.255")!)).toBe(true);
    expect(set.contains(parseIp("::1")!)).toBe(false);
  });

  test("parseCidrList throws RangeError naming the bad entry", () => {
    expect(() => parseCidrList(["10.0.0.0/8", "10.0.0.0/40"])).toThrow(/10\.0\.0\.0\/40/);
    expect(parseCidrList([]).empty).toBe(true);
  });
});
