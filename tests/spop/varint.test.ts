import { describe, expect, test } from "bun:test";
import { decodeVarint, encodeVarint, varintSize, writeVarint } from "../../src/spop/varint.ts";
import { hex } from "../fixtures/spop-vectors.ts";
import { statusOf } from "../helpers/spop-status.ts";

// spop-protocol.md §2 worked examples.
const TABLE: ReadonlyArray<readonly [number | bigint, string]> = [
  [0, "00"],
  [1, "01"],
  [127, "7f"],
  [128, "80"],
  [239, "ef"],
  [240, "f000"],
  [241, "f100"],
  [255, "ff00"],
  [256, "f001"],
  [300, "fc03"],
  [1000, "f82f"],
  [2287, "ff7f"],
  [2288, "f08000"],
  [4242, "f2fa00"],
  [16380, "fcf006"],
  [65535, "fff01e"],
  [264431, "ffff7f"],
  [264432, "f0808000"],
  [33818863, "ffffff7f"],
  [33818864, "f080808000"],
  [2147483647, "fff0fefe3e"],
  [4294967295, "fff0fefe7e"],
  [4328786159, "ffffffff7f"],
  [4328786160, "f08080808000"],
  [2n ** 63n - 1n, "fff0fefefefefefefe06"],
  [2n ** 64n - 1n, "fff0fefefefefefefe0e"],
];

describe("varint (§2)", () => {
  for (const [value, bytes] of TABLE) {
    test(`encodeVarint(${value}) is ${bytes}`, () => {
      expect(Buffer.from(encodeVarint(value)).toString("hex")).toBe(bytes);
      expect(varintSize(value)).toBe(bytes.length / 2);
    });
    test(`decodeVarint(${bytes}) is ${value}`, () => {
      const { value: v, next } = decodeVarint(hex(bytes));
      expect(v).toBe(typeof value === "bigint" && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value);
      expect(next).toBe(bytes.length / 2);
    });
  }

  test("encodeVarint() writes int64 -1 as 2^64-1 and -2 as 2^64-2 (two's complement)", () => {
    expect(Buffer.from(encodeVarint(-1)).toString("hex")).toBe("fff0fefefefefefefe0e");
    expect(Buffer.from(encodeVarint(-1n)).toString("hex")).toBe("fff0fefefefefefefe0e");
    expect(Buffer.from(encodeVarint(-2)).toString("hex")).toBe("fef0fefefefefefefe0e");
    expect(varintSize(-2)).toBe(10);
  });

  test("decodeVarint() returns a number up to 2^53-1 and a bigint above", () => {
    const max = Number.MAX_SAFE_INTEGER;
    expect(decodeVarint(encodeVarint(max)).value).toBe(max);
    expect(decodeVarint(encodeVarint(BigInt(max) + 1n)).value).toBe(BigInt(max) + 1n);
    expect(typeof decodeVarint(encodeVarint(2 ** 50)).value).toBe("number");
  });

  test("decodeVarint() honours the offset", () => {
    expect(decodeVarint(hex("aa bb f2fa00 cc"), 2)).toEqual({ value: 4242, next: 5 });
  });

  test("decodeVarint() rejects truncated input with status 4", () => {
    expect(statusOf(() => decodeVarint(hex("")))).toBe(4);
    expect(statusOf(() => decodeVarint(hex("f0")))).toBe(4);
    expect(statusOf(() => decodeVarint(hex("f080")))).toBe(4);
    expect(statusOf(() => decodeVarint(hex("fff0fefefefefefefe")))).toBe(4);
  });

  test("decodeVarint() rejects an 11-byte varint with status 4", () => {
    expect(statusOf(() => decodeVarint(hex("fff0fefefefefefefefe0e")))).toBe(4);
  });

  test("decodeVarint() rejects a 10-byte varint worth 2^64 or more with status 4", () => {
    expect(statusOf(() => decodeVarint(hex("f0f0fefefefefefefe0f")))).toBe(4);
    expect(statusOf(() => decodeVarint(hex("fff0fefefefefefefe7f")))).toBe(4);
  });

  test("encoders reject non-integers and values outside [-2^63, 2^64)", () => {
    expect(() => encodeVarint(1.5)).toThrow(RangeError);
    expect(() => encodeVarint(2n ** 64n)).toThrow(RangeError);
    expect(() => encodeVarint(-(2n ** 63n) - 1n)).toThrow(RangeError);
    expect(() => varintSize(Number.NaN)).toThrow(RangeError);
  });

  test("every boundary of the size ranges round-trips with the documented size", () => {
    const bounds = [0, 239, 240, 2287, 2288, 264431, 264432, 33818863, 33818864, 4328786159, 4328786160];
    for (const v of bounds) {
      const e = encodeVarint(v);
      expect(decodeVarint(e)).toEqual({ value: v, next: e.length });
    }
    const sizes = bounds.map((v) => varintSize(v));
    expect(sizes).toEqual([1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6]);
  });

  test("a seeded sweep of 64-bit values round-trips through writeVarint/decodeVarint", () => {
    let seed = 0x12345678n;
    const out = new Uint8Array(10);
    for (let i = 0; i < 2000; i++) {
      seed = (seed * 6364136223846793005n + 1442695040888963407n) & (2n ** 64n - 1n);
      const v = seed >> BigInt(i % 64);
      const n = writeVarint(out, 0, v);
      expect(n).toBe(varintSize(v));
      const got = decodeVarint(out.subarray(0, n)).value;
      expect(BigInt(got)).toBe(v);
      expect(typeof got).toBe(v <= BigInt(Number.MAX_SAFE_INTEGER) ? "number" : "bigint");
    }
  });
});
