import { describe, expect, test } from "bun:test";
import { createHash, createHmac } from "node:crypto";
import { hmacSha256, sha256 } from "../../../src/ratelimit/response/sha256.ts";
import { fromBase64url, toBase64url } from "../../../src/ratelimit/response/base64url.ts";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

describe("sha256()", () => {
  test("equals node:crypto for every length from 0 to 200 bytes (padding edges 55, 56, 64 included)", () => {
    const data = new Uint8Array(200).map((_, i) => (i * 131 + 7) & 0xff);
    for (let n = 0; n <= 200; n++) {
      expect(hex(sha256(data.subarray(0, n)))).toBe(createHash("sha256").update(data.subarray(0, n)).digest("hex"));
    }
  });

  test("hashes several parts as their concatenation", () => {
    const a = new TextEncoder().encode("hello ");
    const b = new TextEncoder().encode("world");
    expect(hex(sha256(a, b))).toBe(createHash("sha256").update("hello world").digest("hex"));
  });
});

describe("hmacSha256()", () => {
  test("equals node:crypto for short and long (> 64 bytes, hashed first) keys", () => {
    for (const key of [new Uint8Array(16).fill(7), new Uint8Array(64).fill(1), new Uint8Array(100).map((_, i) => i)]) {
      const mac = hmacSha256(key);
      for (const message of ["", "a", "x".repeat(300)]) {
        expect(hex(mac(new TextEncoder().encode(message)))).toBe(createHmac("sha256", key).update(message).digest("hex"));
      }
    }
  });
});

describe("base64url", () => {
  test("round-trips every length up to 40 bytes and matches Buffer's base64url", () => {
    const data = new Uint8Array(40).map((_, i) => (i * 97 + 3) & 0xff);
    for (let n = 0; n <= 40; n++) {
      const text = toBase64url(data.subarray(0, n));
      expect(text).toBe(Buffer.from(data.subarray(0, n)).toString("base64url"));
      expect(fromBase64url(text)).toEqual(data.subarray(0, n));
    }
  });

  test("fromBase64url() refuses characters outside the alphabet and impossible lengths", () => {
    expect(fromBase64url("ab+c")).toBeUndefined();
    expect(fromBase64url("ab=c")).toBeUndefined();
    expect(fromBase64url("abcde")).toBeUndefined();
  });
});
