/**
 * LIST-OF-ACTIONS, the ACK payload (spop-protocol.md §4 "ACK details"):
 * set-var = `01 03 scope name value`, unset-var = `02 02 scope name`.
 * @module
 */
import { ByteReader } from "./byte-reader.ts";
import { invalidFrame } from "./errors.ts";
import { readTyped } from "./typed.ts";
import { type Action, ActionTypeId, VarScope, type VarScopeName } from "./types.ts";
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

const PREFIX_CACHE_MAX = 256;
// Per (action type, scope): variable name → encoded `type nb-args scope name` bytes. An ACK
// usually repeats the same few variables, so each action costs one lookup and one copy.
const prefixCache: Map<string, Uint8Array>[] = Array.from({ length: 10 }, () => new Map());

/** The encoded prefix of an action: type, NB-ARGS, scope byte and name (a STRING-BODY). */
function actionPrefix(type: 1 | 2, scope: number, name: string): Uint8Array {
  const cache = prefixCache[(type - 1) * 5 + scope];
  let prefix = cache.get(name);
  if (prefix === undefined) {
    const w = new Writer(16 + name.length * 3);
    w.u8(type);
    w.u8(type === ActionTypeId.SET_VAR ? 3 : 2);
    w.u8(scope);
    w.string(name);
    prefix = w.take();
    if (cache.size >= PREFIX_CACHE_MAX) cache.clear();
    cache.set(name, prefix);
  }
  return prefix;
}

/** Writes a LIST-OF-ACTIONS; action prefixes come from a small cache of their encoded bytes. */
export function writeActions(w: Writer, actions: readonly Action[]): void {
  for (let i = 0; i < actions.length; i++) {
    const a = actions[i];
    const scope = VarScope[a.scope];
    if (typeof scope !== "number") throw new RangeError(`Cannot encode action: unknown scope ${a.scope}`);
    if (a.type === "set-var") {
      w.bytes(actionPrefix(ActionTypeId.SET_VAR, scope, a.name));
      w.typed(a.value);
    } else {
      w.bytes(actionPrefix(ActionTypeId.UNSET_VAR, scope, a.name));
    }
  }
}
