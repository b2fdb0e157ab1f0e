import { describe, expect, test } from "bun:test";
import { constantAction, decodeActions, writeActions } from "../../src/spop/actions.ts";
import type { Action, TypedData, VarScopeName } from "../../src/spop/types.ts";
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

  test("writeActions() writes the same bytes as the Writer's general primitives for every kind of action", () => {
    // The reference: each action through u8/string/typed, the encoder writeActions' fast path replaces.
    const reference = (actions: readonly Action[]): string => {
      const w = new Writer();
      const scopes: Record<VarScopeName, number> = { proc: 0, sess: 1, txn: 2, req: 3, res: 4 };
      for (const a of actions) {
        w.u8(a.type === "set-var" ? 1 : 2);
        w.u8(a.type === "set-var" ? 3 : 2);
        w.u8(scopes[a.scope]);
        w.string(a.name);
        if (a.type === "set-var") w.typed(a.value);
      }
      return Buffer.from(w.take()).toString("hex");
    };
    const values: TypedData[] = [
      { kind: "null" },
      { kind: "bool", value: false },
      { kind: "int32", value: 0 },
      { kind: "int32", value: 239 },
      { kind: "int32", value: 240 },
      { kind: "int32", value: -1 },
      { kind: "int32", value: 0x7fffffff },
      { kind: "uint32", value: 0xffffffff },
      { kind: "int64", value: 2 ** 40 + 3 },
      { kind: "int64", value: -(2n ** 60n) },
      { kind: "uint64", value: 2n ** 64n - 1n },
      { kind: "ipv4", value: 0xc000020a },
      { kind: "ipv6", value: Uint8Array.from({ length: 16 }, (_, i) => i) },
      { kind: "string", value: "" },
      { kind: "string", value: '"default";r=99;t=1' },
      { kind: "string", value: "café" },
      { kind: "string", value: "y".repeat(239) },
      { kind: "string", value: "z".repeat(240) },
      { kind: "binary", value: Uint8Array.of(0, 1, 255) },
    ];
    const names = ["ip_score", "", "été", "n".repeat(240)];
    const actions: Action[] = [];
    for (const name of names) {
      for (const value of values) actions.push({ type: "set-var", scope: "txn", name, value });
      actions.push({ type: "unset-var", scope: "res", name });
    }
    for (const a of actions) expect(encode([a])).toBe(reference([a]));
    expect(encode(actions)).toBe(reference(actions));
  });

  test("writeActions() refuses a non-integer number as an integer value, as the Writer does", () => {
    expect(() => encode([{ type: "set-var", scope: "txn", name: "x", value: { kind: "int32", value: 1.5 } }])).toThrow(RangeError);
  });

  test("constantAction() is a frozen copy that equals the action and encodes to the same bytes", () => {
    const actions: Action[] = [
      { type: "set-var", scope: "sess", name: "ip_score", value: { kind: "int32", value: 100 } },
      { type: "set-var", scope: "txn", name: "policy", value: { kind: "string", value: "é-default" } },
      { type: "set-var", scope: "txn", name: "addr", value: { kind: "ipv6", value: new Uint8Array(16) } },
      { type: "unset-var", scope: "txn", name: "_" },
    ];
    for (const a of actions) {
      const c = constantAction(a);
      expect(c).not.toBe(a);
      expect(c).toEqual(a);
      expect(JSON.stringify(c)).toBe(JSON.stringify(a));
      expect(Object.isFrozen(c)).toBe(true);
      if (c.type === "set-var") expect(Object.isFrozen(c.value)).toBe(true);
      expect(encode([c, a, c])).toBe(encode([a, a, a]));
    }
  });
});
