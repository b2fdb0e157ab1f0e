/**
 * The SPOP codec in one import: data model, varint, Writer, FrameReader, frame
 * encoders/decoders and the structured whole-frame form.
 * @module
 */
export * from "./types.ts";
export * from "./errors.ts";
export * from "./varint.ts";
export { ByteReader } from "./byte-reader.ts";
export { Writer } from "./writer.ts";
export { FALSE_DATA, NULL_DATA, readNamed, readTyped, TRUE_DATA } from "./typed.ts";
export { decodeKvList, writeKvItem } from "./kv.ts";
export { decodeMessages, decodeMessagesIn, writeMessages } from "./messages.ts";
export { decodeActions, writeActions } from "./actions.ts";
export * from "./frame.ts";
export { FrameView, viewFrame } from "./frame-view.ts";
export { FrameReader } from "./reader.ts";
export { decodeFrame, type DecodedFrame, encodeFrame } from "./codec.ts";
