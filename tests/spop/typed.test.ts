import { describe, expect, test } from "bun:test";
import { ByteReader } from "../../src/spop/byte-reader.ts";
import { readNamed, readTyped } from "../../src/spop/typed.ts";
import type { TypedData } from "../../src/spop/types.ts";
import { Writer } from "../../src/spop/writer.ts";
import { hex } from "../fixtures/spop-vectors.ts";
import { statusOf } from "../helpers/spop-status.ts";

function decodeOne(bytes: Uint8Array): TypedData {
  const r = new ByteReader(bytes);
  const d = readTyped(r);
  expect(r.done).toBe(true);
  return d;
}

function encodeOne(d: TypedData): string {
  const w = new Writer(8);
  w.typed(d);
  return Buffer.from(w.take()).toString("hex");
}

/** Small deterministic PRNG (mulberry32) so failures reproduce. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("typed data (§3)", () => {
  test("readTyped() decodes BOOL true only for type byte 0x11", () => {
    expect(decodeOne(hex("11"))).toEqual({ kind: "bool", value: true });
    expect(decodeOne(hex("01"))).toEqual({ kind: "bool", value: false });
    expect(decodeOne(hex("31"))).toEqual({ kind: "bool", value: false });
  });

  test("Writer.typed() writes BOOL as 0x11/0x01 and NULL as 0x00", () => {
    expect(encodeOne({ kind: "bool", value: true })).toBe("11");
    expect(encodeOne({ kind: "bool", value: false })).toBe("01");
    expect(encodeOne({ kind: "null" })).toBe("00");
  });

  test("IPV4 decodes to a uint32 in host order (192.0.2.10 → 0xc000020a)", () => {
    expect(decodeOne(hex("06 c000020a"))).toEqual({ kind: "ipv4", value: 0xc000020a });
    expect(decodeOne(hex("06 ffffffff"))).toEqual({ kind: "ipv4", value: 0xffffffff });
    expect(encodeOne({ kind: "ipv4", value: 0xc000020a })).toBe("06c000020a");
  });

  test("INT64 -1 arrives as the 10-byte two's complement and decodes to -1", () => {
    expect(decodeOne(hex("04 fff0fefefefefefefe0e"))).toEqual({ kind: "int64", value: -1 });
    expect(encodeOne({ kind: "int64", value: -1 })).toBe("04fff0fefefefefefefe0e");
  });

  test("INT32 decodes as signed 64-bit: 0xffffffff stays +4294967295, the 10-byte form is -1", () => {
    expect(decodeOne(hex("02 fff0fefe7e"))).toEqual({ kind: "int32", value: 4294967295 });
    expect(decodeOne(hex("02 fff0fefefefefefefe0e"))).toEqual({ kind: "int32", value: -1 });
    expect(encodeOne({ kind: "int32", value: -1 })).toBe("02fff0fefefefefefefe0e");
  });

  test("UINT64 above 2^53 decodes to a bigint, INT64 below -2^53 too", () => {
    expect(decodeOne(hex("05 fff0fefefefefefefe0e"))).toEqual({ kind: "uint64", value: 2n ** 64n - 1n });
    const w = new Writer();
    w.typed({ kind: "int64", value: -(2n ** 60n) });
    expect(decodeOne(w.take())).toEqual({ kind: "int64", value: -(2n ** 60n) });
  });

  test("32-bit kinds carrying a value beyond 2^53 are rejected with status 4", () => {
    expect(statusOf(() => decodeOne(hex("03 fff0fefefefefefefe0e")))).toBe(4);
    expect(statusOf(() => decodeOne(hex("02 fff0fefefefefefefe06")))).toBe(4);
  });

  test("reserved type ids 10–15 are rejected with status 4", () => {
    for (let id = 10; id <= 15; id++) expect(statusOf(() => decodeOne(new Uint8Array([id])))).toBe(4);
  });

  test("a non-zero flag nibble on other types is ignored when decoding", () => {
    expect(decodeOne(hex("18 02 6869"))).toEqual({ kind: "string", value: "hi" });
  });

  test("STRING decodes UTF-8 and rejects invalid UTF-8 with status 4", () => {
    expect(decodeOne(hex("08 03 e282ac"))).toEqual({ kind: "string", value: "€" });
    expect(encodeOne({ kind: "string", value: "€" })).toBe("0803e282ac");
    expect(statusOf(() => decodeOne(hex("08 02 c328")))).toBe(4);
    expect(decodeOne(hex("08 00"))).toEqual({ kind: "string", value: "" });
  });

  test("truncated bodies are rejected with status 4", () => {
    for (const h of ["06 c00002", "07 00", "08 05 6162", "09 f0", "02", ""]) {
      expect(statusOf(() => decodeOne(hex(h)))).toBe(4);
    }
  });

  test("IPV6 and BINARY decode to views of the input (no copy)", () => {
    const bytes = hex("07 20010db8000000000000000000000001");
    const d = decodeOne(bytes);
    expect(d.kind === "ipv6" && d.value.buffer).toBe(bytes.buffer);
    expect(() => encodeOne({ kind: "ipv6", value: new Uint8Array(4) })).toThrow(RangeError);
  });

  test("readNamed() copies an IPv6 argument, so a handler keeping it does not pin the received chunk", () => {
    const bytes = hex("07 20010db8000000000000000000000001 07");
    const d = readNamed(new ByteReader(bytes), "ip_src");
    expect(d.kind === "ipv6" && d.value.buffer).not.toBe(bytes.buffer);
    expect(d).toEqual({ name: "ip_src", kind: "ipv6", value: bytes.slice(1, 17) });
    expect(statusOf(() => readNamed(new ByteReader(bytes.subarray(0, 16)), "ip_src"))).toBe(4);
  });

  test("readNamed() decodes every kind like readTyped()", () => {
    const cases = ["00", "11", "01", "02 05", "03 f0 01", "04 ef", "05 01", "06 c000020a", "08 02 6869", "09 01 ff"];
    for (const h of cases) {
      expect(readNamed(new ByteReader(hex(h)), "a")).toEqual({ name: "a", ...decodeOne(hex(h)) });
    }
  });

  test("readNamed() attaches the name to the decoded value", () => {
    expect(readNamed(new ByteReader(hex("00")), "ip_fwd")).toEqual({ name: "ip_fwd", kind: "null" });
    expect(readNamed(new ByteReader(hex("0301")), "n")).toEqual({ name: "n", kind: "uint32", value: 1 });
  });

  test("a seeded random round trip over all ten kinds re-decodes every value", () => {
    const rnd = prng(2024);
    const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo));
    const big64 = () => (BigInt(int(0, 2 ** 32)) << 32n) | BigInt(int(0, 2 ** 32));
    const canon = (v: bigint) =>
      v >= BigInt(-Number.MAX_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
    const bytes = (n: number) => Uint8Array.from({ length: n }, () => int(0, 256));
    const text = (n: number) =>
      Array.from({ length: n }, () => (rnd() < 0.8 ? String.fromCharCode(int(32, 127)) : ["é", "€", "😀"][int(0, 3)]))
        .join("");
    const gens: Array<() => TypedData> = [
      () => ({ kind: "null" }),
      () => ({ kind: "bool", value: rnd() < 0.5 }),
      () => ({ kind: "int32", value: int(-(2 ** 31), 2 ** 31) }),
      () => ({ kind: "uint32", value: int(0, 2 ** 32) }),
      () => ({ kind: "int64", value: canon(BigInt.asIntN(64, big64() >> BigInt(int(0, 64)))) }),
      () => ({ kind: "uint64", value: canon(big64() >> BigInt(int(0, 64))) }),
      () => ({ kind: "ipv4", value: int(0, 2 ** 32) }),
      () => ({ kind: "ipv6", value: bytes(16) }),
      () => ({ kind: "string", value: text(int(0, rnd() < 0.9 ? 40 : 400)) }),
      () => ({ kind: "binary", value: bytes(int(0, rnd() < 0.9 ? 40 : 3000)) }),
    ];
    const w = new Writer(16);
    const expected: TypedData[] = [];
    for (let i = 0; i < 4000; i++) {
      const d = gens[i % gens.length]();
      expected.push(d);
      w.typed(d);
    }
    const buf = w.take();
    const r = new ByteReader(buf);
    for (const d of expected) expect(readTyped(r)).toEqual(d);
    expect(r.done).toBe(true);
  });
});
