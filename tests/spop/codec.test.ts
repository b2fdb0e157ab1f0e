import { describe, expect, test } from "bun:test";
import { decodeFrame, encodeFrame } from "../../src/spop/codec.ts";
import { FrameReader } from "../../src/spop/reader.ts";
import { hex, NEGATIVE_VECTORS, VECTORS } from "../fixtures/spop-vectors.ts";
import { statusOf } from "../helpers/spop-status.ts";

describe("spop-protocol.md §11 vectors", () => {
  test("VECTORS holds V1–V15 with V1b, V4b and both forms of V5", () => {
    expect(VECTORS.length).toBe(17);
    expect(VECTORS.map((v) => v.name.split(" ")[0])).toEqual([
      "V1", "V1b", "V2", "V3", "V4b", "V5", "V5", "V6", "V7", "V8", "V9", "V10", "V11", "V12", "V13", "V14", "V15",
    ]);
  });

  for (const v of VECTORS) {
    test(`decodeFrame() decodes ${v.name}`, () => {
      expect(decodeFrame(v.bytes)).toEqual(v.decoded);
    });
    test(`encodeFrame() re-encodes ${v.name} byte-identically`, () => {
      expect(Buffer.from(encodeFrame(v.decoded)).toString("hex")).toBe(v.hex);
    });
    test(`the LENGTH prefix of ${v.name} matches its size`, () => {
      const len = new DataView(v.bytes.buffer, v.bytes.byteOffset).getUint32(0);
      expect(len).toBe(v.bytes.length - 4);
    });
  }

  test("V2 is 82 bytes on the wire", () => {
    expect(VECTORS[2].bytes.length).toBe(82);
  });
});

describe("negative vectors", () => {
  for (const v of NEGATIVE_VECTORS) {
    if (v.decodeStatus !== undefined) {
      test(`decodeFrame() rejects "${v.name}" with status ${v.decodeStatus}`, () => {
        expect(statusOf(() => decodeFrame(v.bytes))).toBe(v.decodeStatus);
      });
      test(`FrameReader.next() or payload decoding rejects "${v.name}" with status ${v.decodeStatus}`, () => {
        const reader = new FrameReader({ maxFrameSize: 16380 });
        reader.push(v.bytes.slice());
        expect(statusOf(() => {
          const frame = reader.next();
          if (frame !== undefined) decodeFrame(v.bytes);
        })).toBe(v.decodeStatus);
      });
    } else {
      test(`"${v.name}" decodes (the peer rejects it: ${v.reason})`, () => {
        expect(decodeFrame(v.bytes)).toEqual(v.decoded!);
        const reader = new FrameReader({ maxFrameSize: 16380 });
        reader.push(v.bytes.slice());
        expect(reader.next()?.flags).toBe(v.flags!);
      });
    }
  }

  test("AGENT-HELLO version 1.0 reports its version field as 1.0", () => {
    const d = decodeFrame(NEGATIVE_VECTORS.find((v) => v.name === "AGENT-HELLO version 1.0")!.bytes);
    expect(d.type === "agent-hello" && d.hello.version).toBe("1.0");
  });

  test("decodeFrame() rejects a buffer holding more than one frame", () => {
    const two = new Uint8Array([...VECTORS[11].bytes, ...VECTORS[11].bytes]);
    expect(statusOf(() => decodeFrame(two))).toBe(4);
  });

  test("decodeFrame() rejects fewer than 4 bytes", () => {
    expect(statusOf(() => decodeFrame(hex("0000")))).toBe(4);
  });
});

describe("unknown frame types", () => {
  test("decodeFrame() keeps type, flags, ids and payload of an unknown frame", () => {
    const bytes = hex("0000000a 00 00000003 f2fa00 01 ab");
    const d = decodeFrame(bytes);
    expect(d).toEqual({ type: "unknown", frameType: 0, flags: 3, streamId: 4242, frameId: 1, payload: hex("ab") });
    expect(encodeFrame(d)).toEqual(bytes);
  });

  test("decodeFrame() keeps ids above 2^53 exact as bigint", () => {
    const d = { type: "ack" as const, streamId: 2n ** 64n - 1n, frameId: 1, actions: [] };
    const bytes = encodeFrame(d);
    expect(bytes.length).toBe(4 + 5 + 10 + 1);
    expect(decodeFrame(bytes)).toEqual(d);
  });
});
