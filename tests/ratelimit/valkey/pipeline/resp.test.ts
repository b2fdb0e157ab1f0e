// The lean path's RESP codec: every reply type, fed whole, byte by byte and split at every offset
// (engineering-notes §2.8), and commands written as Valkey reads them (checked against a real
// server in script-path.test.ts).
import { describe, expect, test } from "bun:test";
import { RespError, RespReader, type RespValue } from "../../../../src/ratelimit/valkey/pipeline/resp-reader.ts";
import { encodeCommand, RespWriter } from "../../../../src/ratelimit/valkey/pipeline/resp-writer.ts";

const text = (s: string) => new TextEncoder().encode(s);
const STREAM = text("+OK\r\n:42\r\n:-7\r\n$4\r\nhé!\r\n$-1\r\n*3\r\n:1\r\n*2\r\n:0\r\n$0\r\n\r\n-NOSCRIPT No matching script\r\n*-1\r\n*0\r\n");
const EXPECTED: RespValue[] = ["OK", 42, -7, "hé!", null, [1, [0, ""], new RespError("NOSCRIPT No matching script")], null, []];

function readAll(chunks: readonly Uint8Array[]): RespValue[] {
  const out: RespValue[] = [];
  const reader = new RespReader((reply) => out.push(reply));
  for (const chunk of chunks) reader.push(chunk);
  return out;
}

/** RespError compares by message. */
const plain = (values: readonly RespValue[]): unknown =>
  values.map((v) => (v instanceof RespError ? `error:${v.message}` : Array.isArray(v) ? plain(v) : v));

describe("RespReader", () => {
  test("push() parses every RESP2 reply type of a whole stream in order", () => {
    // The array holds an error reply as its third element, as EXEC would answer.
    expect(plain(readAll([STREAM]))).toEqual(plain(EXPECTED));
  });

  test("push() gives the same replies byte by byte and split at every offset", () => {
    const whole = plain(readAll([STREAM]));
    expect(plain(readAll([...STREAM].map((b) => Uint8Array.of(b))))).toEqual(whole);
    for (let at = 1; at < STREAM.length; at++) {
      expect(plain(readAll([STREAM.subarray(0, at), STREAM.subarray(at)]))).toEqual(whole);
    }
  });
});

describe("RespWriter", () => {
  test("encodeCommand() writes an array of bulk strings, UTF-8 lengths in bytes", () => {
    expect(new TextDecoder().decode(encodeCommand(["SET", "k", "hé"]))).toBe("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\nhé\r\n");
  });

  test("beginBulk() + f64/u8 packs numbers as little-endian doubles, exact below 2^53", () => {
    const writer = new RespWriter(4);
    writer.beginBulk(9).f64(2 ** 53 - 1).u8(1).end();
    const bytes = writer.take();
    expect(new TextDecoder().decode(bytes.subarray(0, 4))).toBe("$9\r\n");
    expect(new DataView(bytes.buffer, 4, 8).getFloat64(0, true)).toBe(2 ** 53 - 1);
    expect(bytes[12]).toBe(1);
    expect([...bytes.subarray(13)]).toEqual([13, 10]);
  });
});
