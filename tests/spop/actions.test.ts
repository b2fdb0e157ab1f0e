import { describe, expect, test } from "bun:test";
import { decodeActions, writeActions } from "../../src/spop/actions.ts";
import type { Action } from "../../src/spop/types.ts";
import { Writer } from "../../src/spop/writer.ts";
import { hex } from "../fixtures/spop-vectors.ts";
import { statusOf } from "../helpers/spop-status.ts";

function encode(actions: readonly Action[]): string {
  const w = new Writer();
  writeActions(w, actions);
  return Buffer.from(w.take()).toString("hex");
}

describe("LIST-OF-ACTIONS", () => {
  test("writeActions() encodes set-var and unset-var as in V8 and V9", () => {
    expect(encode([
      { type: "set-var", scope: "txn", name: "blocked", value: { kind: "bool", value: true } },
      { type: "set-var", scope: "txn", name: "retry_after", value: { kind: "int32", value: 30 } },
    ])).toBe("01030207626c6f636b6564110103020b72657472795f616674657202" + "1e");
    expect(encode([{ type: "unset-var", scope: "txn", name: "blocked" }])).toBe("02020207626c6f636b6564");
  });

  test("every scope maps to its wire byte and back", () => {
    const scopes = ["proc", "sess", "txn", "req", "res"] as const;
    const actions: Action[] = scopes.map((scope) => ({ type: "unset-var", scope, name: "v" }));
    const bytes = encode(actions);
    expect(bytes).toBe(scopes.map((_, i) => `02020${i}0176`).join(""));
    expect(decodeActions(hex(bytes))).toEqual(actions);
  });

  test("decodeActions() of an empty payload is an empty list", () => {
    expect(decodeActions(new Uint8Array(0))).toEqual([]);
  });

  test("unknown action type, wrong NB-ARGS and unknown scope are rejected with status 4", () => {
    for (const h of ["00 00", "03 00", "01 02 02 01 61 00", "02 03 02 01 61", "02 02 05 01 61", "01 03 02 01 61"]) {
      expect(statusOf(() => decodeActions(hex(h)))).toBe(4);
    }
  });

  test("writeActions() refuses an unknown scope", () => {
    expect(() => encode([{ type: "unset-var", scope: "toString" as never, name: "v" }])).toThrow(RangeError);
  });

  test("a NULL set-var value round-trips (HAProxy treats it as unset)", () => {
    const a: Action[] = [{ type: "set-var", scope: "sess", name: "x", value: { kind: "null" } }];
    expect(decodeActions(hex(encode(a)))).toEqual(a);
  });
});
