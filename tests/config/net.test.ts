import { describe, expect, test } from "bun:test";
import { cidrProblem, isIPv6, normaliseCidr, parseListenAddress } from "../../src/config/net.ts";

describe("cidrProblem()", () => {
  test("accepts IPv4 and IPv6 CIDRs and bare addresses", () => {
    for (const text of ["10.0.0.0/8", "0.0.0.0/0", "2001:db8::/32", "::/0", "::ffff:10.0.0.1/128", "192.168.1.1", "fe80::1"]) {
      expect(cidrProblem(text)).toBeUndefined();
    }
  });

  test("explains what is wrong", () => {
    expect(cidrProblem("10.0.0.0/33")).toBe(`prefix length "33" is not a number from 0 to 32`);
    expect(cidrProblem("10.0.0/8")).toBe(`"10.0.0" is not an IPv4 or IPv6 address`);
    expect(cidrProblem("2001:db8::/129")).toContain("from 0 to 128");
    expect(cidrProblem("1:2:3:4:5:6:7:8:9/64")).toBeDefined();
  });

  test("refuses what the identity module could not match: an IPv4-mapped block shorter than /96", () => {
    expect(cidrProblem("::ffff:10.0.0.0/64")).toContain("from 96 to 128");
    expect(cidrProblem("::ffff:10.0.0.0/104")).toBeUndefined();
  });
});

describe("isIPv6()", () => {
  test("needs exactly eight groups unless :: compresses", () => {
    expect(isIPv6("1:2:3:4:5:6:7:8")).toBe(true);
    expect(isIPv6("1:2:3:4:5:6:7")).toBe(false);
    expect(isIPv6("1::2::3")).toBe(false);
  });
});

test("normaliseCidr() turns a bare address into a single-host CIDR", () => {
  expect(normaliseCidr("10.1.2.3")).toBe("10.1.2.3/32");
  expect(normaliseCidr("::1")).toBe("::1/128");
  expect(normaliseCidr("10.0.0.0/8")).toBe("10.0.0.0/8");
});

test("parseListenAddress() splits tcp and unix addresses", () => {
  expect(parseListenAddress("[::1]:12345")).toEqual({ kind: "tcp", hostname: "::1", port: 12345 });
  expect(parseListenAddress("unix:/run/spoa/spoa.sock")).toEqual({ kind: "unix", path: "/run/spoa/spoa.sock" });
  expect(parseListenAddress("host")).toBeUndefined();
});
