import { describe, expect, test } from "bun:test";
import { disconnectStatus } from "../../bench/load/connection.ts";
import { AddressPool, ackVerdict, haproxyDisconnect, haproxyHello, notifyTemplate, Verdict } from "../../bench/load/frames.ts";
import { FrameStream, LoadProtocolError } from "../../bench/load/stream.ts";
import { decodeFrame, encodeFrame } from "../../src/spop/codec.ts";
import type { Action } from "../../src/spop/types.ts";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

function ackFrame(streamId: number, actions: Action[]): Uint8Array {
  return encodeFrame({ type: "ack", streamId, frameId: 1, actions });
}

describe("notifyTemplate", () => {
  test("writes the seed's NOTIFY that the project codec decodes, IPv4 and IPv6", () => {
    const t = notifyTemplate("check-rate");
    const out = new Uint8Array(2 * t.maxBytes);
    const end1 = t.write(out, 0, { streamId: 4242, frameId: 1 }, Uint8Array.of(192, 0, 2, 10));
    const v6 = Uint8Array.of(0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 1);
    const end2 = t.write(out, end1, { streamId: 3, frameId: 1 }, v6);
    expect(decodeFrame(out.subarray(0, end1))).toEqual({
      type: "notify",
      streamId: 4242,
      frameId: 1,
      messages: [{
        name: "check-rate",
        args: [
          { name: "ip_fwd", kind: "null" },
          { name: "ip_xff", kind: "null" },
          { name: "ip_src", kind: "ipv4", value: 0xc000020a },
        ],
      }],
    });
    const second = decodeFrame(out.subarray(end1, end2));
    expect(second.type === "notify" && second.streamId).toBe(3);
    expect(second.type === "notify" && second.messages[0].args[2]).toEqual({ name: "ip_src", kind: "ipv6", value: v6 });
    expect(end2 - end1).toBeLessThanOrEqual(t.maxBytes);
  });

  test("is byte-identical to the codec's own encoding of the same NOTIFY", () => {
    const t = notifyTemplate("check-rate");
    const out = new Uint8Array(t.maxBytes);
    const end = t.write(out, 0, { streamId: 5, frameId: 1 }, Uint8Array.of(10, 0, 0, 1));
    const expected = encodeFrame({
      type: "notify",
      streamId: 5,
      frameId: 1,
      messages: [{
        name: "check-rate",
        args: [{ name: "ip_fwd", kind: "null" }, { name: "ip_xff", kind: "null" }, { name: "ip_src", kind: "ipv4", value: 0x0a000001 }],
      }],
    });
    expect(hex(out.subarray(0, end))).toBe(hex(expected));
  });
});

describe("haproxyHello", () => {
  test("2.6 style matches vector V1b's capabilities and 3.1 style V1's", () => {
    const classic = decodeFrame(haproxyHello("2.6", "8f2b6c1e-3d4a-4e5f-9a7b-0c1d2e3f4a5b"));
    const mux = decodeFrame(haproxyHello("3.1", "8f2b6c1e-3d4a-4e5f-9a7b-0c1d2e3f4a5b"));
    expect(classic.type === "haproxy-hello" && classic.hello.capabilities).toEqual(["pipelining", "async"]);
    expect(hex(haproxyHello("3.1", "8f2b6c1e-3d4a-4e5f-9a7b-0c1d2e3f4a5b"))).toBe(
      // Vector V1 of spop-protocol.md §11.
      ("0000007b 01 00000001 0000 12737570706f727465642d76657273696f6e73 0803322e30 0e6d61782d6672616d652d73697a65 03fcf006 " +
        "0c6361706162696c6974696573 080a706970656c696e696e67 09656e67696e652d6964 0824 " +
        "38663262366331652d336434612d346535662d396137622d306331643265336634613562").replaceAll(" ", ""),
    );
    expect(mux.type).toBe("haproxy-hello");
  });

  test("haproxyDisconnect is vector V12 and disconnectStatus reads its status", () => {
    const d = haproxyDisconnect();
    expect(hex(d)).toBe("00000025020000000100000b7374617475732d636f64650300076d65737361676508066e6f726d616c");
    const v15 = Buffer.from("0000002f66000000010000 0b7374617475732d636f6465 0303 076d657373616765 0810 6672616d6520697320746f6f20626967".replaceAll(" ", ""), "hex");
    expect(disconnectStatus(v15, 11, v15.length)).toBe(3);
  });
});

describe("ackVerdict", () => {
  const payload = (frame: Uint8Array, idBytes = 2) => [frame, 9 + idBytes, frame.length] as const;

  test("reads sess ip_score 0 as allowed and 100 as denied, whatever follows", () => {
    const allow = ackFrame(1, [
      { type: "set-var", scope: "sess", name: "ip_score", value: { kind: "int32", value: 0 } },
      { type: "set-var", scope: "txn", name: "allowed", value: { kind: "bool", value: true } },
      { type: "set-var", scope: "txn", name: "policy", value: { kind: "string", value: "default" } },
    ]);
    const deny = ackFrame(1, [
      { type: "set-var", scope: "txn", name: "limit", value: { kind: "int64", value: 1e12 } },
      { type: "set-var", scope: "sess", name: "ip_score", value: { kind: "int32", value: 100 } },
    ]);
    expect(ackVerdict(...payload(allow))).toBe(Verdict.ALLOWED);
    expect(ackVerdict(...payload(deny))).toBe(Verdict.DENIED);
  });

  test("falls back to txn allowed, and an empty ACK has no verdict", () => {
    const denied = ackFrame(1, [
      { type: "unset-var", scope: "txn", name: "x" },
      { type: "set-var", scope: "txn", name: "allowed", value: { kind: "bool", value: false } },
    ]);
    expect(ackVerdict(...payload(denied))).toBe(Verdict.DENIED);
    expect(ackVerdict(...payload(ackFrame(9, [])))).toBe(Verdict.NONE);
  });

  test("reports a truncated action list as malformed", () => {
    const frame = ackFrame(1, [{ type: "set-var", scope: "txn", name: "policy", value: { kind: "string", value: "default" } }]);
    expect(ackVerdict(frame, 11, frame.length - 3)).toBe(Verdict.MALFORMED);
  });
});

describe("FrameStream", () => {
  test("hands out every frame once, even when cut at every byte", () => {
    const frames = [ackFrame(1, []), ackFrame(300, []), ackFrame(5, [{ type: "unset-var", scope: "txn", name: "a" }])];
    const all = Buffer.concat(frames);
    for (let cut = 1; cut < all.length; cut++) {
      const s = new FrameStream();
      const seen: string[] = [];
      const sink = (type: number, buf: Uint8Array, idStart: number, end: number) => seen.push(`${type}:${hex(buf.subarray(idStart, end))}`);
      s.push(all.subarray(0, cut), sink);
      s.push(all.subarray(cut), sink);
      expect(seen).toEqual(frames.map((f) => `103:${hex(f.subarray(9))}`));
      expect(s.pendingBytes).toBe(0);
    }
  });

  test("rejects a frame length below 7", () => {
    expect(() => new FrameStream().push(Uint8Array.of(0, 0, 0, 0), () => {})).toThrow(LoadProtocolError);
  });
});

describe("AddressPool", () => {
  test("gives distinct IPv4 addresses and distinct IPv6 /64 prefixes, with about the requested IPv6 share", () => {
    const pool = new AddressPool({ keys: 10_000, ipv6Share: 0.2 });
    const seen = new Set<string>();
    let v6 = 0;
    for (let i = 0; i < pool.size; i++) {
      const a = pool.address(i);
      if (a.length === 16) v6++;
      seen.add(hex(a.length === 16 ? a.subarray(0, 8) : a));
    }
    expect(seen.size).toBe(10_000);
    expect(v6 / 10_000).toBeGreaterThan(0.17);
    expect(v6 / 10_000).toBeLessThan(0.23);
  });

  test("an IPv6 share of 0 gives IPv4 only and 1 gives IPv6 only", () => {
    expect(new AddressPool({ keys: 100, ipv6Share: 0 }).address(42).length).toBe(4);
    expect(new AddressPool({ keys: 100, ipv6Share: 1 }).address(42).length).toBe(16);
  });
});
