import { describe, expect, test } from "bun:test";
import {
  decodeAgentHello,
  decodeDisconnect,
  decodeHaproxyHello,
  decodeNotify,
  encodeIds,
  writeAck,
  writeAgentHello,
  writeDisconnect,
  writeHaproxyHello,
  writeNotify,
} from "../../src/spop/frame.ts";
import { viewFrame } from "../../src/spop/frame-view.ts";
import { FrameReader } from "../../src/spop/reader.ts";
import type { Frame } from "../../src/spop/types.ts";
import { Writer } from "../../src/spop/writer.ts";
import { vectorNamed } from "../fixtures/spop-vectors.ts";
import { statusOf } from "../helpers/spop-status.ts";

/** A Frame around a bare KV payload. */
function kvFrame(type: number, build: (w: Writer) => void): Frame {
  const w = new Writer();
  const mark = w.beginFrame(type);
  w.u8(0);
  w.u8(0);
  build(w);
  w.endFrame(mark);
  const bytes = w.take();
  return viewFrame(bytes, 0, bytes.length - 4);
}

const str = (w: Writer, k: string, v: string) => {
  w.string(k);
  w.typed({ kind: "string", value: v });
};
const u32 = (w: Writer, k: string, v: number) => {
  w.string(k);
  w.typed({ kind: "uint32", value: v });
};

describe("HELLO frames", () => {
  test("writeHaproxyHello() reproduces V1, V1b and V2 byte for byte", () => {
    for (const name of ["V1", "V1b", "V2"]) {
      const v = vectorNamed(name);
      if (v.decoded.type !== "haproxy-hello") throw new Error("fixture");
      const w = new Writer();
      writeHaproxyHello(w, v.decoded.hello);
      expect(w.take()).toEqual(v.bytes);
    }
  });

  test("writeAgentHello() reproduces V3 and V4b", () => {
    const w = new Writer();
    writeAgentHello(w, { version: "2.0", maxFrameSize: 16380, capabilities: ["pipelining"] });
    expect(w.take()).toEqual(vectorNamed("V3").bytes);
    writeAgentHello(w, { version: "2.0", maxFrameSize: 16380, capabilities: [] });
    expect(w.take()).toEqual(vectorNamed("V4b").bytes);
  });

  test("decodeHaproxyHello() takes keys in any order, skips unknown keys and trims capabilities", () => {
    const f = kvFrame(1, (w) => {
      str(w, "capabilities", " pipelining , ,async,");
      str(w, "x-unknown", "ignored");
      u32(w, "max-frame-size", 1024);
      str(w, "supported-versions", "2.0, 2.1");
    });
    expect(decodeHaproxyHello(f)).toEqual({
      supportedVersions: ["2.0", "2.1"],
      maxFrameSize: 1024,
      capabilities: ["pipelining", "async"],
    });
  });

  test("decodeHaproxyHello() reports missing keys with status 5, 6 and 7", () => {
    const full = (skip: string) =>
      kvFrame(1, (w) => {
        if (skip !== "v") str(w, "supported-versions", "2.0");
        if (skip !== "m") u32(w, "max-frame-size", 16380);
        if (skip !== "c") str(w, "capabilities", "");
      });
    expect(statusOf(() => decodeHaproxyHello(full("v")))).toBe(5);
    expect(statusOf(() => decodeHaproxyHello(full("m")))).toBe(6);
    expect(statusOf(() => decodeHaproxyHello(full("c")))).toBe(7);
    expect(statusOf(() => decodeHaproxyHello(full("none")))).toBeUndefined();
  });

  test("decodeHaproxyHello() rejects wrong value types and prefix-only keys with status 4 / as missing", () => {
    const wrongType = kvFrame(1, (w) => {
      u32(w, "supported-versions", 2);
      u32(w, "max-frame-size", 16380);
      str(w, "capabilities", "");
    });
    expect(statusOf(() => decodeHaproxyHello(wrongType))).toBe(4);
    const prefix = kvFrame(1, (w) => {
      str(w, "supported-versions-x", "2.0");
      u32(w, "max-frame-size", 16380);
      str(w, "capabilities", "");
    });
    expect(statusOf(() => decodeHaproxyHello(prefix))).toBe(5);
  });

  test("decodeAgentHello() reads a missing max-frame-size as 0 and missing capabilities as none", () => {
    expect(decodeAgentHello(kvFrame(101, (w) => str(w, "version", "2.0")))).toEqual({
      version: "2.0",
      maxFrameSize: 0,
      capabilities: [],
    });
    expect(statusOf(() => decodeAgentHello(kvFrame(101, (w) => u32(w, "max-frame-size", 1))))).toBe(5);
  });
});

describe("DISCONNECT frames", () => {
  test("writeDisconnect() defaults the message to HAProxy's text (V12–V15)", () => {
    const w = new Writer();
    writeDisconnect(w, 2, 0);
    expect(w.take()).toEqual(vectorNamed("V12").bytes);
    writeDisconnect(w, 2, 2);
    expect(w.take()).toEqual(vectorNamed("V13").bytes);
    writeDisconnect(w, 102, 0);
    expect(w.take()).toEqual(vectorNamed("V14").bytes);
    writeDisconnect(w, 102, 3);
    expect(w.take()).toEqual(vectorNamed("V15").bytes);
  });

  test("writeDisconnect() uses the unknown-error text for other codes and caps messages at 255 bytes", () => {
    const w = new Writer();
    writeDisconnect(w, 102, 42);
    const unknown = w.take();
    expect(decodeDisconnect(viewFrame(unknown, 0, unknown.length - 4))).toEqual({
      status: 42,
      message: "an unknown error occurred",
    });
    writeDisconnect(w, 102, 99, "é".repeat(200));
    const long = w.take();
    const msg = decodeDisconnect(viewFrame(long, 0, long.length - 4)).message;
    expect(new TextEncoder().encode(msg).length).toBeLessThanOrEqual(255);
    expect(msg).toBe("é".repeat(127));
  });

  test("decodeDisconnect() accepts status-code as any integer type 2–5", () => {
    for (const kind of ["int32", "uint32", "int64", "uint64"] as const) {
      const f = kvFrame(2, (w) => {
        w.string("status-code");
        w.typed({ kind, value: 9 });
        str(w, "message", "m");
      });
      expect(decodeDisconnect(f)).toEqual({ status: 9, message: "m" });
    }
  });

  test("decodeDisconnect() requires status-code (4) and reads a missing message as empty", () => {
    expect(statusOf(() => decodeDisconnect(kvFrame(2, (w) => str(w, "message", "m"))))).toBe(4);
    expect(decodeDisconnect(kvFrame(2, (w) => u32(w, "status-code", 1)))).toEqual({ status: 1, message: "" });
    const wrong = kvFrame(2, (w) => str(w, "status-code", "1"));
    expect(statusOf(() => decodeDisconnect(wrong))).toBe(4);
  });
});

describe("NOTIFY and ACK frames", () => {
  test("writeNotify() reproduces V5 in both id forms and V6", () => {
    for (const name of ["V5", "V6"]) {
      for (const v of [vectorNamed(name)]) {
        if (v.decoded.type !== "notify") throw new Error("fixture");
        const w = new Writer();
        writeNotify(w, v.decoded, v.decoded.messages);
        expect(w.take()).toEqual(v.bytes);
      }
    }
  });

  test("decodeNotify() decodes a reader frame without touching its payload view", () => {
    const v = vectorNamed("V5");
    const reader = new FrameReader({ maxFrameSize: 16380 });
    reader.push(v.bytes.slice());
    const f = reader.next()!;
    expect(decodeNotify(f)).toEqual(v.decoded.type === "notify" ? v.decoded.messages : []);
    const plain: Frame = { ...f, idBytes: f.idBytes, payload: f.payload };
    expect(decodeNotify(plain)).toEqual(decodeNotify(f));
  });

  test("writeAck() echoes the id bytes of a held copy, a reader frame, or a plain Frame", () => {
    const v = vectorNamed("V8");
    if (v.decoded.type !== "ack") throw new Error("fixture");
    const notify = new Writer();
    writeNotify(notify, { streamId: 5, frameId: 1 }, []);
    const nb = notify.take();
    const reader = new FrameReader({ maxFrameSize: 16380 });
    reader.push(nb);
    const f = reader.next()!;
    const w = new Writer();
    writeAck(w, { idBytes: encodeIds(5, 1) }, v.decoded.actions);
    writeAck(w, f, v.decoded.actions);
    const plain: Frame = { type: f.type, flags: f.flags, streamId: f.streamId, frameId: f.frameId, idBytes: f.idBytes, payload: f.payload };
    writeAck(w, plain, v.decoded.actions);
    const out = w.take();
    const n = v.bytes.length;
    expect(out.length).toBe(3 * n);
    for (let i = 0; i < 3; i++) expect(out.subarray(i * n, (i + 1) * n)).toEqual(v.bytes);
  });

  test("writeAck() echoes wide ids verbatim", () => {
    const ids = encodeIds(2n ** 64n - 1n, 4242);
    const w = new Writer();
    writeAck(w, { idBytes: ids }, []);
    const out = w.take();
    expect(out.subarray(9)).toEqual(ids);
    expect(viewFrame(out, 0, out.length - 4).frameId).toBe(4242);
  });

  test("viewFrame() reads every id width right, at any offset in the chunk", () => {
    // Around each varint length boundary: 1 byte < 240, 2 < 2288, 3 < 264432 (the fast path), 4+ (the general one).
    const ids = [0, 239, 240, 2287, 2288, 264431, 264432, 33818863, 2 ** 40];
    for (const streamId of ids) {
      for (const frameId of [0, 240, 264431, 264432]) {
        const w = new Writer();
        writeNotify(w, { streamId, frameId }, []);
        const frame = w.take();
        const chunk = new Uint8Array(frame.length + 7);
        chunk.set(frame, 5);
        const view = viewFrame(chunk, 5, frame.length - 4);
        expect([view.streamId, view.frameId, view.idBytes]).toEqual([streamId, frameId, encodeIds(streamId, frameId)]);
        expect(view.payload.length).toBe(0);
      }
    }
  });
});
