import { describe, expect, test } from "bun:test";
import { SpopError } from "../../src/spop/errors.ts";
import { decodeName, decodeText } from "../../src/spop/text.ts";

const enc = new TextEncoder();
const name = (s: string) => {
  const b = enc.encode(`..${s}..`); // decode from an offset, as in a payload
  return decodeName(b, 2, b.length - 2);
};

describe("text decoding", () => {
  test("decodeName() returns exact names even when two names share a cache slot", () => {
    // Same length, first, middle and last byte: the same slot; they must still differ.
    const seq = ["ip_src", "ipxsrc", "ip_src", "ipxsrc", "ip_src"];
    expect(seq.map(name)).toEqual(seq);
  });

  test("decodeName() handles empty, long and non-ASCII names", () => {
    expect(name("")).toBe("");
    const long = "n".repeat(100);
    expect(name(long)).toBe(long);
    expect(name("débit")).toBe("débit");
    expect(name("débit")).toBe("débit");
    expect(name("d\u00e9bit".normalize("NFD"))).toBe("débit".normalize("NFD"));
  });

  test("decodeText() decodes short ASCII, long text and multi-byte UTF-8", () => {
    for (const s of ["", "GET", "/api/v1/users/42", "x".repeat(33), "päth/€/😀", "a".repeat(31) + "é"]) {
      const b = enc.encode(s);
      expect(decodeText(b, 0, b.length)).toBe(s);
    }
  });

  test("invalid UTF-8 is rejected with status 4 on both paths", () => {
    const bad = new Uint8Array([0x61, 0xc3, 0x28]);
    for (const fn of [decodeText, decodeName]) {
      let err: unknown;
      try {
        fn(bad, 0, bad.length);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(SpopError);
      expect((err as SpopError).status).toBe(4);
    }
    const longBad = new Uint8Array(40).fill(0xff);
    expect(() => decodeText(longBad, 0, 40)).toThrow(SpopError);
  });
});
