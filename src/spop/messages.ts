/**
 * LIST-OF-MESSAGES, the NOTIFY payload (spop-protocol.md §4):
 * `( NAME:STRING-BODY NB-ARGS:uint8 ( ARG-NAME:STRING-BODY ARG-VALUE:TYPED-DATA ){NB-ARGS} )*`.
 * @module
 */
import { ByteReader } from "./byte-reader.ts";
import { readNamed } from "./typed.ts";
import type { Message, NamedData } from "./types.ts";
import type { Writer } from "./writer.ts";

/** NB-ARGS is a single byte. */
const MAX_ARGS = 255;

/** Decodes a whole LIST-OF-MESSAGES; an empty payload is `[]`, malformed input throws SpopError(4). */
export function decodeMessages(payload: Uint8Array): Message[] {
  return decodeMessagesIn(payload, 0, payload.length);
}

/** Decodes the LIST-OF-MESSAGES stored at `buf[start, end)` (no view of the range is made). */
export function decodeMessagesIn(buf: Uint8Array, start: number, end: number): Message[] {
  const r = new ByteReader(buf, start, end);
  const messages: Message[] = [];
  while (!r.done) {
    const name = r.name();
    const nbArgs = r.u8();
    const args: NamedData[] = new Array(nbArgs);
    for (let i = 0; i < nbArgs; i++) {
      args[i] = readNamed(r, r.name());
    }
    messages.push({ name, args });
  }
  return messages;
}

/** Writes a LIST-OF-MESSAGES; more than 255 args in one message is a RangeError. */
export function writeMessages(w: Writer, messages: readonly Message[]): void {
  for (let m = 0; m < messages.length; m++) {
    const msg = messages[m];
    const args = msg.args;
    if (args.length > MAX_ARGS) {
      throw new RangeError(`Cannot encode message ${msg.name}: ${args.length} args exceed ${MAX_ARGS}`);
    }
    w.name(msg.name);
    w.u8(args.length);
    for (let i = 0; i < args.length; i++) {
      const arg = args[i];
      w.name(arg.name);
      w.typed(arg);
    }
  }
}
