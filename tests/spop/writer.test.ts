import { describe, expect, test } from "bun:test";
import { decodeFrame } from "../../src/spop/codec.ts";
import { writeAck } from "../../src/spop/frame.ts";
import { FrameReader } from "../../src/spop/reader.ts";
import { Writer } from "../../src/spop/writer.ts";
import { hex, vectorNamed } from "../fixtures/spop-vectors.ts";

const toHex = (b: Uint8Array) => Buffer.from(b).toString("hex");

describe("Writer", () => {
  test("writes primitives big-endian and varints HAProxy-style", () => {
    const w = new Writer(4);
    w.u8(0xab);
    w.u32(0x01020304);
    w.varint(4242);
    w.bytes(hex("cafe"));
    w.string("hi");
    expect(w.length).toBe(1 + 4 + 3 + 2 + 3);
    expect(toHex(w.take())).toBe("ab01020304f2fa00cafe026869");
    expect(w.length).toBe(0);
  });

  test("room() returns a buffer with space for direct writes and commit() sets the length", () => {
    const w = new Writer(16);
    w.u8(1);
    const b = w.room(100);
    expect(b.length).toBeGreaterThanOrEqual(101);
    b[1] = 2;
    b[2] = 3;
    w.commit(3);
    expect(toHex(w.take())).toBe("010203");
  });

  test("string() switches to UTF-8 when a non-ASCII char appears and handles long strings", () => {
    const w = new Writer(4);
    w.string("aé");
    expect(toHex(w.take())).toBe("0361c3a9");
    const long = "x".repeat(300);
    w.string(long);
    const out = w.take();
    expect(toHex(out.subarray(0, 2))).toBe("fc03"); // 300
    expect(out.length).toBe(302);
  });

  test("name() writes the same bytes as string()", () => {
    const a = new Writer();
    const b = new Writer();
    for (const s of ["retry_after", "", "é", "x".repeat(500)]) {
      a.name(s);
      b.string(s);
    }
    expect(a.take()).toEqual(b.take());
  });

  test("beginFrame()/endFrame() back-patch LENGTH and default flags to FIN", () => {
    const w = new Writer(1);
    const mark = w.beginFrame(103);
    w.u8(9);
    w.u8(1);
    w.endFrame(mark);
    expect(w.take()).toEqual(vectorNamed("V10").bytes);
    const m2 = w.beginFrame(0, 3);
    w.u8(0);
    w.u8(0);
    w.endFrame(m2);
    expect(toHex(w.take())).toBe("00000007000000000300" + "00");
  });

  test("grows correctly across many frames of varying size", () => {
    const w = new Writer(16);
    const expected: number[] = [];
    for (let i = 0; i < 500; i++) {
      const mark = w.beginFrame(0x99);
      w.varint(i);
      w.varint(i * 7);
      const payload = new Uint8Array(i % 97).fill(i & 0xff);
      w.bytes(payload);
      w.endFrame(mark);
      expected.push(i);
    }
    const reader = new FrameReader({ maxFrameSize: 1 << 20 });
    reader.push(w.take());
    const ids: number[] = [];
    for (let f = reader.next(); f !== undefined; f = reader.next()) {
      ids.push(f.streamId);
      expect(f.frameId).toBe(f.streamId * 7);
      expect(f.payload.length).toBe(f.streamId % 97);
      expect(f.payload.every((b) => b === (f.streamId & 0xff))).toBe(true);
    }
    expect(ids).toEqual(expected);
  });

  test("take() returns bytes independent of later writes", () => {
    const v8 = vectorNamed("V8");
    if (v8.decoded.type !== "ack") throw new Error("fixture");
    const w = new Writer(8);
    writeAck(w, { idBytes: hex("0501") }, v8.decoded.actions);
    const first = w.take();
    const copy = first.slice();
    for (let i = 0; i < 100; i++) w.string("overwrite everything");
    w.reset();
    w.u32(0xffffffff);
    expect(first).toEqual(copy);
    expect(decodeFrame(first)).toEqual(v8.decoded);
  });

  test("reset() discards what was written", () => {
    const w = new Writer();
    w.string("abc");
    w.reset();
    expect(w.length).toBe(0);
    expect(w.take().length).toBe(0);
  });

  test("typed() refuses an unknown kind", () => {
    const w = new Writer();
    expect(() => w.typed({ kind: "float" } as never)).toThrow(TypeError);
  });
});
