import { describe, expect, test } from "bun:test";
import { SpopError } from "../../src/spop/errors.ts";
import { decodeKvList, writeKvItem } from "../../src/spop/kv.ts";
import { Writer } from "../../src/spop/writer.ts";
import { hex } from "../fixtures/spop-vectors.ts";

describe("KV-LIST", () => {
  test("decodeKvList() maps every key to its typed value, of any type", () => {
    const w = new Writer();
    writeKvItem(w, "a", { kind: "string", value: "x" });
    writeKvItem(w, "b", { kind: "binary", value: hex("0102") });
    writeKvItem(w, "c", { kind: "ipv6", value: new Uint8Array(16) });
    writeKvItem(w, "d", { kind: "null" });
    const items = decodeKvList(w.take());
    expect([...items.keys()]).toEqual(["a", "b", "c", "d"]);
    expect(items.get("b")).toEqual({ kind: "binary", value: hex("0102") });
    expect(items.get("d")).toEqual({ kind: "null" });
  });

  test("decodeKvList() keeps the last value of a duplicate key", () => {
    const w = new Writer();
    writeKvItem(w, "k", { kind: "uint32", value: 1 });
    writeKvItem(w, "k", { kind: "uint32", value: 2 });
    expect(decodeKvList(w.take()).get("k")).toEqual({ kind: "uint32", value: 2 });
  });

  test("decodeKvList() of an empty payload is an empty map", () => {
    expect(decodeKvList(new Uint8Array(0)).size).toBe(0);
  });

  test("a key without a value, or a truncated value, is rejected with status 4", () => {
    for (const h of ["01 61", "01 61 08 05 6162", "05 6162"]) {
      expect(() => decodeKvList(hex(h))).toThrow(SpopError);
    }
  });
});
