import { describe, expect, test } from "bun:test";
import { AckBatch, PADDING_ACTIONS } from "../../src/agent/ack-batch.ts";
import { viewFrame } from "../../src/spop/frame-view.ts";
import type { Action } from "../../src/spop/types.ts";
import { parseReplies } from "../../src/spop/client.ts";
import { settle } from "./harness.ts";

const ids = { idBytes: new Uint8Array([1, 1]) };
const ok: Action[] = [{ type: "set-var", scope: "txn", name: "a", value: { kind: "int32", value: 1 } }];

function batch(maxFrameSize = 16380) {
  const writes: Uint8Array[] = [];
  return { out: new AckBatch((bytes) => writes.push(bytes), { maxFrameSize }), writes };
}

describe("AckBatch", () => {
  test("flush() sends every queued frame in one write and nothing when empty", () => {
    const { out, writes } = batch();
    out.ack(ids, ok);
    out.ack(ids, PADDING_ACTIONS);
    out.flush();
    out.flush();
    expect(writes.length).toBe(1);
    expect(parseReplies(writes[0]).map((r) => r.type === "ack" && r.actions)).toEqual([ok, [...PADDING_ACTIONS]]);
  });

  test("ack() with the NOTIFY Frame itself echoes its ids like ack() with a held copy of its id bytes", () => {
    // A NOTIFY with stream-id 4242 (f2 fa 00) and frame-id 7, inside a larger chunk.
    const chunk = new Uint8Array([0xee, 0, 0, 0, 10, 3, 0, 0, 0, 1, 0xf2, 0xfa, 0x00, 7, 0xee]);
    const frame = viewFrame(chunk, 1, 10);
    const a = batch();
    a.out.ack(frame, ok);
    a.out.flush();
    const b = batch();
    b.out.ack({ idBytes: frame.idBytes }, ok);
    b.out.flush();
    expect(a.writes[0]).toEqual(b.writes[0]);
    expect(parseReplies(a.writes[0])).toMatchObject([{ type: "ack", streamId: 4242, frameId: 7, actions: ok }]);
  });

  test("scheduleFlush() coalesces every call of a tick into one write", async () => {
    const { out, writes } = batch();
    for (let i = 0; i < 3; i++) {
      out.ack(ids, ok);
      out.scheduleFlush();
    }
    expect(writes.length).toBe(0);
    await settle();
    expect(writes.length).toBe(1);
    expect(parseReplies(writes[0]).length).toBe(3);
  });

  test("ack() drops a frame whose encoding throws and keeps the frames before it", () => {
    const { out, writes } = batch();
    out.ack(ids, ok);
    const bad = [...ok, { type: "set-var", scope: "txn", name: "b", value: { kind: "ipv6", value: new Uint8Array(3) } }];
    expect(() => out.ack(ids, bad as Action[])).toThrow(RangeError);
    out.ack({ idBytes: new Uint8Array([3, 1]) }, ok);
    out.flush();
    const replies = parseReplies(writes[0]);
    expect(replies.map((r) => r.type === "ack" && [r.streamId, r.actions])).toEqual([[1, ok], [3, ok]]);
  });

  test("ack() rejects a frame longer than max-frame-size and drops its bytes", () => {
    const { out, writes } = batch(256);
    const long: Action[] = [{ type: "set-var", scope: "txn", name: "s", value: { kind: "string", value: "x".repeat(300) } }];
    expect(() => out.ack(ids, long)).toThrow(RangeError);
    expect(out.pendingBytes).toBe(0);
    out.ack(ids, ok);
    out.flush();
    expect(parseReplies(writes[0]).length).toBe(1);
  });

  test("close() drops queued bytes and refuses later flushes", async () => {
    const { out, writes } = batch();
    out.ack(ids, ok);
    out.scheduleFlush();
    out.close();
    out.flush();
    await settle();
    expect(writes).toEqual([]);
  });
});
