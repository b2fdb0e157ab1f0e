/**
 * LIST-OF-ACTIONS, the ACK payload (spop-protocol.md §4 "ACK details"):
 * set-var = `01 03 scope name value`, unset-var = `02 02 scope name`.
 * @module
 */
import { ByteReader } from "./byte-reader.ts";
import { invalidFrame } from "./errors.ts";
import { BOOL_TRUE_BYTE, readTyped } from "./typed.ts";
import { type Action, ActionTypeId, DataTypeId, VarScope, type VarScopeName } from "./types.ts";
import { MAX_VARINT_BYTES, writeVarint } from "./varint.ts";
import { Writer } from "./writer.ts";

/** Scope names indexed by their wire byte. */
const SCOPE_NAMES: readonly VarScopeName[] = ["proc", "sess", "txn", "req", "res"];

/** Reads a scope byte; anything but 0–4 is invalid. */
function readScope(r: ByteReader): VarScopeName {
  const b = r.u8();
  const scope = SCOPE_NAMES[b];
  if (scope === undefined) throw invalidFrame(`unknown variable scope ${b}`);
  return scope;
}

/** Decodes a whole LIST-OF-ACTIONS; unknown action type, scope or NB-ARGS throws SpopError(4). */
export function decodeActions(payload: Uint8Array): Action[] {
  const r = new ByteReader(payload);
  const actions: Action[] = [];
  while (!r.done) {
    const type = r.u8();
    const nbArgs = r.u8();
    if (type === ActionTypeId.SET_VAR) {
      if (nbArgs !== 3) throw invalidFrame(`set-var with ${nbArgs} args instead of 3`);
      const scope = readScope(r);
      const name = r.name();
      actions.push({ type: "set-var", scope, name, value: readTyped(r) });
    } else if (type === ActionTypeId.UNSET_VAR) {
      if (nbArgs !== 2) throw invalidFrame(`unset-var with ${nbArgs} args instead of 2`);
      const scope = readScope(r);
      actions.push({ type: "unset-var", scope, name: r.name() });
    } else {
      throw invalidFrame(`unknown action type ${type}`);
    }
  }
  return actions;
}

// The fast path below writes straight into the Writer's buffer: one room() check per action,
// no call per byte, no TextEncoder. Anything unusual (non-ASCII or ≥ 240-char strings, big or
// negative integers, addresses, binary) is handed to the Writer's general primitives.

/** Room for everything but the strings: type, NB-ARGS, scope, name length, value type, a 10-byte varint. */
const FIXED_ROOM = 5 + MAX_VARINT_BYTES;

/** The scope's wire byte; an if-chain because scope names are interned literals compared by pointer. */
function scopeByte(scope: VarScopeName): number {
  if (scope === "txn") return VarScope.txn;
  if (scope === "sess") return VarScope.sess;
  if (scope === "req") return VarScope.req;
  if (scope === "res") return VarScope.res;
  if (scope === "proc") return VarScope.proc;
  throw new RangeError(`Cannot encode action: unknown scope ${scope}`);
}

/** Writes `s` as a STRING-BODY at `p` when it is ASCII and < 240 chars; returns the end, or -1. */
function putAscii(b: Uint8Array, p: number, s: string): number {
  const n = s.length;
  if (n >= 240) return -1;
  b[p] = n; // a one-byte varint
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) return -1;
    b[p + 1 + i] = c;
  }
  return p + 1 + n;
}

/** Writes a varint of `v` < 2^32 at `p` with int arithmetic (writeVarint's number path is general). */
function putUint32(b: Uint8Array, p: number, v: number): number {
  if (v < 240) {
    b[p] = v;
    return p + 1;
  }
  b[p++] = 0xf0 | (v & 0x0f);
  v = (v - 240) >>> 4;
  while (v >= 128) {
    b[p++] = 0x80 | (v & 0x7f);
    v = (v - 128) >>> 7;
  }
  b[p] = v;
  return p + 1;
}

/** The general (slow) path of one action, through the Writer's primitives. */
function writeGeneral(w: Writer, scope: number, a: Action): void {
  w.u8(a.type === "set-var" ? ActionTypeId.SET_VAR : ActionTypeId.UNSET_VAR);
  w.u8(a.type === "set-var" ? 3 : 2);
  w.u8(scope);
  w.string(a.name);
  if (a.type === "set-var") w.typed(a.value);
}

/** Writes one action on the fast path; returns false (nothing committed) when it needs the general one. */
function writeFast(w: Writer, scope: number, a: Action): boolean {
  const name = a.name;
  if (a.type === "unset-var") {
    const b = w.room(FIXED_ROOM + name.length);
    const p = w.length;
    b[p] = ActionTypeId.UNSET_VAR;
    b[p + 1] = 2;
    b[p + 2] = scope;
    const end = putAscii(b, p + 3, name);
    if (end < 0) return false;
    w.commit(end);
    return true;
  }
  const d = a.value;
  const kind = d.kind;
  const b = w.room(FIXED_ROOM + name.length + (kind === "string" ? d.value.length : 0));
  let p = w.length;
  b[p] = ActionTypeId.SET_VAR;
  b[p + 1] = 3;
  b[p + 2] = scope;
  p = putAscii(b, p + 3, name);
  if (p < 0) return false;
  if (kind === "string") {
    b[p] = DataTypeId.STRING;
    p = putAscii(b, p + 1, d.value);
    if (p < 0) return false;
  } else if (kind === "bool") {
    b[p++] = d.value ? BOOL_TRUE_BYTE : DataTypeId.BOOL;
  } else if (kind === "int32" || kind === "int64" || kind === "uint32" || kind === "uint64") {
    const v = d.value;
    // Compares, not a table lookup: a property read keyed by a varying string is slow in JSC.
    b[p] = kind === "int32" ? DataTypeId.INT32 : kind === "uint32" ? DataTypeId.UINT32 : kind === "int64" ? DataTypeId.INT64 : DataTypeId.UINT64;
    // (v >>> 0) === v: a number that is an integer in [0, 2^32); anything else takes writeVarint,
    // which also throws the RangeError for non-integers.
    p = typeof v === "number" && v >>> 0 === v ? putUint32(b, p + 1, v) : writeVarint(b, p + 1, v);
  } else if (kind === "null") {
    b[p++] = DataTypeId.NULL;
  } else {
    w.commit(p); // addresses and binary: rare in ACKs, the Writer's general encoder
    w.typed(d);
    return true;
  }
  w.commit(p);
  return true;
}

// Encoded bytes of a constant action (see constantAction), under a symbol so that no reader
// of the action (tests' toEqual, JSON, logs) sees them.
const ENCODED = Symbol("spop.encodedAction");
type Preencoded = Action & { readonly [ENCODED]?: Uint8Array };

/**
 * A frozen copy of an action that never changes (e.g. `sess.ip_score = 0`), carrying its encoded
 * bytes: writeActions copies them instead of encoding the action again on every ACK.
 */
export function constantAction(action: Action): Action {
  const copy: Action = action.type === "set-var"
    ? { type: action.type, scope: action.scope, name: action.name, value: Object.freeze({ ...action.value }) }
    : { type: action.type, scope: action.scope, name: action.name };
  const kind = copy.type === "set-var" ? copy.value.kind : "null";
  // Byte values (addresses, binary) stay mutable under a frozen object: never cache those.
  if (kind !== "ipv6" && kind !== "binary") {
    const w = new Writer(64);
    writeActions(w, [copy]);
    Object.defineProperty(copy, ENCODED, { value: w.take(), enumerable: false });
  }
  return Object.freeze(copy);
}

/** Writes a LIST-OF-ACTIONS, short ASCII names and values straight into the buffer. */
export function writeActions(w: Writer, actions: readonly Action[]): void {
  for (let i = 0; i < actions.length; i++) {
    const a = actions[i];
    const encoded = (a as Preencoded)[ENCODED];
    if (encoded !== undefined) {
      w.bytes(encoded);
      continue;
    }
    const scope = scopeByte(a.scope);
    if (!writeFast(w, scope, a)) writeGeneral(w, scope, a);
  }
}
