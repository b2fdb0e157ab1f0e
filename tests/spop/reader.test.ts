import { describe, expect, test } from "bun:test";
import { decodeFrame } from "../../src/spop/codec.ts";
import { SpopError } from "../../src/spop/errors.ts";
import { FrameReader } from "../../src/spop/reader.ts";
import type { Frame } from "../../src/spop/types.ts";
import { hex, VECTORS } from "../fixtures/spop-vectors.ts";

const ALL = new Uint8Array(VECTORS.reduce((n, v) => n + v.bytes.length, 0));
{
  let o = 0;
  for (const v of VECTORS) {
    ALL.set(v.bytes, o);
    o += v.bytes.length;
  }
}

/** Rebuilds the wire bytes of a frame from its fields (checks the views are right). */
function wire(f: Frame): Uint8Array {
  const len = 5 + f.idBytes.length + f.payload.length;
  const out = new Uint8Array(4 + len);
  new DataView(out.buffer).setUint32(0, len);
  out[4] = f.type;
  new DataView(out.buffer).setUint32(5, f.flags);
  out.set(f.idBytes, 9);
  out.set(f.payload, 9 + f.idBytes.length);
  return out;
}

function drain(reader: FrameReader, into: Frame[]): void {
  for (let f = reader.next(); f !== undefined; f = reader.next()) into.push(f);
}

/** Feeds `bytes` cut at the given offsets and returns the frames read. */
function feed(bytes: Uint8Array, cuts: readonly number[]): Frame[] {
  const reader = new FrameReader({ maxFrameSize: 16380 });
  const frames: Frame[] = [];
  let prev = 0;
  for (const cut of [...cuts, bytes.length]) {
    reader.push(bytes.slice(prev, cut));
    prev = cut;
    drain(reader, frames);
  }
  expect(reader.bufferedBytes).toBe(0);
  return frames;
}

describe("FrameReader", () => {
  for (const v of VECTORS) {
    test(`reads ${v.name} fed whole, byte by byte, and split at every offset`, () => {
      const check = (frames: Frame[]) => {
        expect(frames.length).toBe(1);
        expect(wire(frames[0])).toEqual(v.bytes);
        expect(decodeFrame(wire(frames[0]))).toEqual(v.decoded);
      };
      check(feed(v.bytes, []));
      check(feed(v.bytes, Array.from({ length: v.bytes.length - 1 }, (_, i) => i + 1)));
      for (let cut = 1; cut < v.bytes.length; cut++) check(feed(v.bytes, [cut]));
    });
  }

  test("reads the concatenation of all vectors whole, byte by byte, and split at every offset", () => {
    const check = (frames: Frame[]) => {
      expect(frames.map((f) => decodeFrame(wire(f)))).toEqual(VECTORS.map((v) => v.decoded));
    };
    check(feed(ALL, []));
    check(feed(ALL, Array.from({ length: ALL.length - 1 }, (_, i) => i + 1)));
    for (let cut = 1; cut < ALL.length; cut++) check(feed(ALL, [cut]));
  });

  test("reads 64 frames from one chunk, as views of that chunk", () => {
    const v = VECTORS[5].bytes;
    const chunk = new Uint8Array(v.length * 64);
    for (let i = 0; i < 64; i++) chunk.set(v, i * v.length);
    const reader = new FrameReader({ maxFrameSize: 16380 });
    reader.push(chunk);
    const frames: Frame[] = [];
    drain(reader, frames);
    expect(frames.length).toBe(64);
    for (const f of frames) {
      expect(f.payload.buffer).toBe(chunk.buffer);
      expect(f.streamId).toBe(1);
      expect(wire(f)).toEqual(v);
    }
    expect(reader.bufferedBytes).toBe(0);
  });

  test("exposes stream-id, frame-id, flags and the raw id bytes", () => {
    const reader = new FrameReader({ maxFrameSize: 16380 });
    reader.push(VECTORS[6].bytes.slice());
    const f = reader.next()!;
    expect([f.type, f.flags, f.streamId, f.frameId]).toEqual([3, 1, 4242, 1]);
    expect(f.idBytes).toEqual(hex("f2fa00 01"));
  });

  test("rejects a frame longer than max-frame-size with status 3 right after the 4 length bytes", () => {
    const reader = new FrameReader({ maxFrameSize: 16380 });
    reader.push(hex("0001"));
    expect(reader.next()).toBeUndefined();
    reader.push(hex("11"));
    expect(reader.next()).toBeUndefined();
    reader.push(hex("70")); // LENGTH = 70000, no body byte yet
    let err: unknown;
    try {
      reader.next();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SpopError);
    expect((err as SpopError).status).toBe(3);
    expect((err as SpopError).code).toBe("frame_too_big");
    expect((err as SpopError).message).toBe("Cannot decode frame: length 70000 exceeds max-frame-size 16380");
    expect(() => reader.next()).toThrow(SpopError);
  });

  test("applies a lowered maxFrameSize to the next frame", () => {
    const reader = new FrameReader({ maxFrameSize: 16380 });
    reader.maxFrameSize = 40;
    reader.push(VECTORS[0].bytes.slice()); // LENGTH 123
    expect(() => reader.next()).toThrow("exceeds max-frame-size 40");
  });

  test("accepts a frame of exactly max-frame-size", () => {
    const reader = new FrameReader({ maxFrameSize: 64 });
    reader.push(VECTORS[3].bytes.slice()); // LENGTH 64
    expect(reader.next()?.type).toBe(101);
  });

  test("rejects LENGTH below 7 with status 4", () => {
    for (const h of ["00000000", "00000006 03 00000001 00"]) {
      const reader = new FrameReader({ maxFrameSize: 16380 });
      reader.push(hex(h));
      let status: number | undefined;
      try {
        reader.next();
      } catch (e) {
        status = (e as SpopError).status;
      }
      expect(status).toBe(4);
    }
  });

  test("rejects id varints running past the frame with status 4", () => {
    const reader = new FrameReader({ maxFrameSize: 16380 });
    reader.push(hex("00000007 03 00000001 01 f2"));
    expect(() => reader.next()).toThrow(expect.objectContaining({ status: 4 }));
  });

  test("counts buffered bytes across partial frames", () => {
    const reader = new FrameReader({ maxFrameSize: 16380 });
    const v = VECTORS[5].bytes;
    reader.push(v.slice(0, 10));
    expect(reader.next()).toBeUndefined();
    reader.push(v.slice(10, 20));
    expect(reader.bufferedBytes).toBe(20);
    expect(reader.next()).toBeUndefined();
    reader.push(v.slice(20));
    expect(reader.next()).toBeDefined();
    expect(reader.bufferedBytes).toBe(0);
    expect(reader.next()).toBeUndefined();
  });

  test("ignores empty chunks", () => {
    const reader = new FrameReader({ maxFrameSize: 16380 });
    reader.push(new Uint8Array(0));
    reader.push(VECTORS[11].bytes.slice());
    reader.push(new Uint8Array(0));
    expect(reader.next()?.type).toBe(103);
  });
});
