import { describe, expect, test } from "bun:test";
import { decodeMessages, decodeMessagesIn, writeMessages } from "../../src/spop/messages.ts";
import type { Message } from "../../src/spop/types.ts";
import { Writer } from "../../src/spop/writer.ts";
import { hex } from "../fixtures/spop-vectors.ts";
import { statusOf } from "../helpers/spop-status.ts";

function encode(messages: readonly Message[]): Uint8Array {
  const w = new Writer();
  writeMessages(w, messages);
  return w.take();
}

const CHECK_RATE: Message = {
  name: "check-rate",
  args: [
    { name: "ip_fwd", kind: "null" },
    { name: "ip_xff", kind: "null" },
    { name: "ip_src", kind: "ipv4", value: 0xc000020a },
  ],
};

describe("LIST-OF-MESSAGES", () => {
  test("decodeMessages() of an empty payload is an empty list", () => {
    expect(decodeMessages(new Uint8Array(0))).toEqual([]);
  });

  test("decodeMessages() reads the §4 example and keeps argument order", () => {
    const payload = hex("0a 726174652d6c696d6974 02 06 69705f737263 06 c000020a 04 70617468 08 07 2f6170692f7631");
    expect(decodeMessages(payload)).toEqual([{
      name: "rate-limit",
      args: [
        { name: "ip_src", kind: "ipv4", value: 0xc000020a },
        { name: "path", kind: "string", value: "/api/v1" },
      ],
    }]);
  });

  test("several messages, zero-arg messages and unnamed args round-trip", () => {
    const messages: Message[] = [
      CHECK_RATE,
      { name: "empty", args: [] },
      { name: "x", args: [{ name: "", kind: "string", value: "GET" }, { name: "b", kind: "bool", value: true }] },
    ];
    expect(decodeMessages(encode(messages))).toEqual(messages);
  });

  test("decodeMessagesIn() reads a sub-range of a buffer", () => {
    const inner = encode([CHECK_RATE]);
    const buf = new Uint8Array(inner.length + 6);
    buf.set(inner, 3);
    expect(decodeMessagesIn(buf, 3, 3 + inner.length)).toEqual([CHECK_RATE]);
  });

  test("repeated names decode to equal strings through the intern cache", () => {
    const payload = encode([CHECK_RATE, CHECK_RATE]);
    const [a, b] = decodeMessages(payload);
    expect(a.name).toBe(b.name);
    expect(a.args.map((x) => x.name)).toEqual(["ip_fwd", "ip_xff", "ip_src"]);
  });

  test("names are compared exactly: similar names stay distinct", () => {
    const names = ["ip_src", "ip_srd", "ip_sr", "ip_src2", "IP_SRC", "ip_src"];
    const payload = encode(names.map((name) => ({ name, args: [] })));
    expect(decodeMessages(payload).map((m) => m.name)).toEqual(names);
  });

  test("non-ASCII names decode and invalid UTF-8 names are rejected with status 4", () => {
    expect(decodeMessages(encode([{ name: "débit", args: [] }]))[0].name).toBe("débit");
    expect(statusOf(() => decodeMessages(hex("02 c328 00")))).toBe(4);
  });

  test("truncated or malformed lists are rejected with status 4", () => {
    const good = encode([CHECK_RATE]);
    for (let cut = 1; cut < good.length; cut++) {
      expect(statusOf(() => decodeMessages(good.subarray(0, cut)))).toBe(4);
    }
    expect(statusOf(() => decodeMessages(hex("05 6162")))).toBe(4); // name length past the end
    // …also when the bytes after the range would complete it
    expect(statusOf(() => decodeMessagesIn(hex("05 6162 636465 00"), 0, 3))).toBe(4);
  });

  test("writeMessages() refuses more than 255 args", () => {
    const args = Array.from({ length: 256 }, () => ({ name: "a", kind: "null" as const }));
    expect(() => encode([{ name: "m", args }])).toThrow(RangeError);
    const max = Array.from({ length: 255 }, () => ({ name: "a", kind: "null" as const }));
    expect(decodeMessages(encode([{ name: "m", args: max }]))[0].args.length).toBe(255);
  });
});
