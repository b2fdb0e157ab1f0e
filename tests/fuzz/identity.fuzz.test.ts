// Fuzzes the client-identity parsers with mutated Forwarded / X-Forwarded-For values and random
// text, behind trusted and untrusted sources, plus the address and CIDR parsers on their own.
// Invariants: nothing throws; the identity is "unknown", a dotted IPv4 address, or an IPv6
// prefix with its host bits zero and the configured length; a source that is not trusted always
// wins over any header; the work per value is capped, so no input takes long.
import { describe, expect, test } from "bun:test";
import { compileIdentity, UNKNOWN_IDENTITY } from "../../src/ratelimit/identity/identity.ts";
import { parseCidr, parseHostAddress, parseIp } from "../../src/ratelimit/identity/ip.ts";
import type { NamedData } from "../../src/spop/types.ts";
import { FUZZ_REGRESSIONS } from "../fixtures/fuzz-regressions.ts";
import { hex } from "../fixtures/spop-vectors.ts";
import { fuzz, type Random } from "./fuzz-kit.ts";

/** Header values a proxy chain really produces (RFC 7239 §7 examples and common XFF forms). */
const HEADER_CORPUS = [
  "for=192.0.2.60;proto=http;by=203.0.113.43",
  'for="_gazonk"',
  'For="[2001:db8:cafe::17]:4711"',
  "for=192.0.2.43, for=198.51.100.17",
  'for=unknown, for="[2001:db8::1]";host=example.com, for=10.1.2.3:8080',
  "203.0.113.195, 70.41.3.18, 150.172.238.178",
  "2001:db8:85a3::8a2e:370:7334",
  "[2001:db8::1]:443, 10.0.0.1",
  "::ffff:192.0.2.128",
  "unknown",
  "",
];
/** Headers with the client they name when every hop is trusted (RFC 7239 §7; the leftmost address wins). */
const KNOWN_HEADERS: readonly (readonly [arg: "ip_fwd" | "ip_xff", value: string, client: string])[] = [
  ["ip_fwd", "for=192.0.2.60;proto=http;by=203.0.113.43", "192.0.2.60"],
  ["ip_fwd", 'For="[2001:db8:cafe::17]:4711"', "2001:db8:cafe::/64"],
  ["ip_fwd", "for=192.0.2.43, for=198.51.100.17", "192.0.2.43"],
  ["ip_fwd", 'for=unknown, for="[2001:db8::1]";host=example.com, for=10.1.2.3:8080', "2001:db8::/64"],
  ["ip_xff", "203.0.113.195, 70.41.3.18, 150.172.238.178", "203.0.113.195"],
  ["ip_xff", "[2001:db8::1]:443, 10.0.0.1", "2001:db8::/64"],
  ["ip_xff", "::ffff:192.0.2.128", "192.0.2.128"],
];
const TOKENS = ["for=", "For=", ";", ",", " ", "\t", '"', "[", "]", ":", "::", "%eth0", "_hidden", "unknown", "255.255.255.255", "0.0.0.0", "1.2.3", "01.2.3.4", "::1", "fe80::1%1", "ffff:", "by=", "proto=https"];
const PREFIXES = [0, 1, 48, 56, 64, 96, 127, 128];
/** Trusted sets: everyone (headers always read), a private range (our test source in it), nobody. */
const TRUSTED = [["0.0.0.0/0", "::/0"], ["10.0.0.0/8", "2001:db8::/32"], []] as const;

function text(random: Random): string {
  if (random(10) === 0) return Array.from({ length: random(40) }, () => String.fromCharCode(random(4) === 0 ? random(0x3000) : 32 + random(95))).join("");
  let value = HEADER_CORPUS[random(HEADER_CORPUS.length)];
  for (let i = random(6); i > 0; i--) {
    const at = random(value.length + 1);
    const token = TOKENS[random(TOKENS.length)];
    value = random(3) === 0 ? value.slice(0, at) + value.slice(at + 1 + random(4)) : value.slice(0, at) + token + value.slice(at);
  }
  if (random(30) === 0) value = value.repeat(1 + random(400)); // past the 8 KiB and 64-hop caps
  return value;
}

function headerArg(random: Random, name: string): NamedData[] {
  switch (random(5)) {
    case 0:
      return [];
    case 1:
      return [{ name, kind: "null" }];
    case 2:
      return [{ name, kind: "ipv4", value: random(2 ** 31) * 2 + random(2) }];
    default:
      return [{ name, kind: "string", value: text(random) }];
  }
}

function sourceArg(random: Random): NamedData[] {
  switch (random(6)) {
    case 0:
      return [];
    case 1:
      return [{ name: "ip_src", kind: "ipv4", value: 0x0a000001 }];
    case 2: {
      const v6 = new Uint8Array(16).map(() => random(256));
      v6.set([0x20, 0x01, 0x0d, 0xb8], 0);
      return [{ name: "ip_src", kind: "ipv6", value: v6 }];
    }
    case 3:
      return [{ name: "ip_src", kind: "string", value: text(random) }];
    case 4:
      return [{ name: "ip_src", kind: "binary", value: new Uint8Array(random(20)).map(() => random(256)) }];
    default:
      return [{ name: "ip_src", kind: "ipv4", value: 0xc0000200 + random(256) }];
  }
}

interface IdentityInput {
  readonly trusted: number;
  readonly prefix: number;
  readonly args: NamedData[];
}

const resolvers = TRUSTED.map((trusted) =>
  PREFIXES.map((prefix) => compileIdentity({ trustedProxies: trusted, ipv6PrefixLength: prefix, forwardedArg: "ip_fwd", xffArg: "ip_xff", sourceArg: "ip_src" }))
);

/** The identity is unknown, an IPv4 address, or a masked IPv6 prefix of the configured length. */
function checkIdentity(identity: string, prefix: number): string {
  if (identity === UNKNOWN_IDENTITY) return "unknown";
  const slash = identity.indexOf("/");
  if (slash < 0) {
    expect(typeof parseIp(identity)).toBe("number");
    return "ipv4";
  }
  expect(identity.slice(slash + 1)).toBe(String(prefix));
  const address = parseIp(identity.slice(0, slash));
  expect(address).toBeInstanceOf(Uint8Array);
  const bytes = address as Uint8Array;
  for (let bit = prefix; bit < 128; bit++) expect((bytes[bit >> 3] >> (7 - (bit & 7))) & 1).toBe(0);
  return "ipv6";
}

function resolveChecked(input: IdentityInput): string {
  const identity = resolvers[input.trusted][PREFIXES.indexOf(input.prefix)].resolve(input.args);
  const kind = checkIdentity(identity, input.prefix);
  // Headers are believed only from trusted sources: with nobody trusted, the source decides.
  if (input.trusted === 2) {
    const alone = resolvers[2][PREFIXES.indexOf(input.prefix)].resolve(input.args.filter((a) => a.name === "ip_src"));
    expect(identity).toBe(alone);
  }
  return kind;
}

describe("client identity fuzzing", () => {
  test("known proxy-chain headers name their client when trusted and are ignored when not; regression vectors keep the invariants", () => {
    const source: NamedData = { name: "ip_src", kind: "ipv4", value: 0x0a000001 };
    for (const [arg, value, client] of KNOWN_HEADERS) {
      const args: NamedData[] = [{ name: arg, kind: "string", value }, source];
      expect(`${value} → ${resolvers[0][PREFIXES.indexOf(64)].resolve(args)}`).toBe(`${value} → ${client}`);
      expect(`${value} → ${resolvers[2][PREFIXES.indexOf(64)].resolve(args)}`).toBe(`${value} → 10.0.0.1`);
      for (let t = 0; t < TRUSTED.length; t++) for (const prefix of PREFIXES) resolveChecked({ trusted: t, prefix, args });
    }
    const regressions = FUZZ_REGRESSIONS.filter((x) => x.target === "identity");
    for (const r of regressions) {
      const value = new TextDecoder().decode(hex(r.hex));
      for (let t = 0; t < TRUSTED.length; t++) {
        resolveChecked({ trusted: t, prefix: 64, args: [{ name: "ip_fwd", kind: "string", value }, { name: "ip_xff", kind: "string", value }, source] });
      }
    }
    expect(KNOWN_HEADERS.length + regressions.length).toBeGreaterThan(0);
  });

  test("Forwarded / X-Forwarded-For / source: a well-formed identity, never an exception, headers only from trusted sources", async () => {
    const stats = await fuzz({
      target: "identity/resolve",
      generate: (random): IdentityInput => ({
        trusted: random(TRUSTED.length),
        prefix: PREFIXES[random(PREFIXES.length)],
        args: [...headerArg(random, "ip_fwd"), ...headerArg(random, "ip_xff"), ...sourceArg(random)].sort(() => random(3) - 1),
      }),
      check: resolveChecked,
      describe: (input) => JSON.stringify(input, (_, v) => (v instanceof Uint8Array ? Array.from(v) : v)),
    });
    if (stats.replay) return;
    for (const kind of ["unknown", "ipv4", "ipv6"]) expect(stats.outcomes[kind] ?? 0).toBeGreaterThan(0);
  }, 60_000);

  test("parseIp, parseHostAddress and parseCidr: undefined or a value, never an exception", async () => {
    const stats = await fuzz({
      target: "identity/ip-parsers",
      generate: (random) => text(random).slice(0, 100) + (random(4) === 0 ? `/${random(200) - 20}` : ""),
      check: (value) => {
        const ip = parseIp(value);
        parseHostAddress(value);
        const cidr = parseCidr(value);
        if (ip !== undefined) expect(typeof ip === "number" || (ip instanceof Uint8Array && ip.length === 16)).toBe(true);
        return cidr !== undefined ? "cidr" : ip !== undefined ? "ip" : "neither";
      },
      describe: (value) => JSON.stringify(value),
    });
    if (!stats.replay) expect(stats.outcomes.ip ?? 0).toBeGreaterThan(0);
  }, 60_000);
});
