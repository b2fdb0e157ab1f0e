/**
 * Streaming frame reader (spop-protocol.md §1 "Reading"): slices complete frames out of
 * received chunks. A frame inside one chunk is a view of it (no copy); a frame spanning
 * chunks is concatenated once, when its last byte has arrived. An over-long LENGTH is
 * rejected as soon as its 4 bytes are known, before the body is buffered.
 * @module
 */
import { invalidFrame, SpopError } from "./errors.ts";
import { LENGTH_BYTES, readLength, viewFrame } from "./frame-view.ts";
import { DisconnectStatus, type Frame, MIN_FRAME_LENGTH } from "./types.ts";

const EMPTY = new Uint8Array(0);

/** Incremental SPOP frame reader for one connection. */
export class FrameReader {
  /** Largest accepted LENGTH; the engine lowers it after HELLO negotiation. */
  maxFrameSize: number;
  #head: Uint8Array = EMPTY; // current chunk (or merged buffer), read from #pos
  #pos = 0;
  #pending: Uint8Array[] = []; // chunks received after #head, not merged yet
  #pendingBytes = 0;
  #frameLength = -1; // LENGTH of the frame being assembled, -1 until its prefix is complete
  #failure: SpopError | undefined;

  constructor(options: { maxFrameSize: number }) {
    this.maxFrameSize = options.maxFrameSize;
  }

  /** Bytes received and not yet returned as frames. */
  get bufferedBytes(): number {
    return this.#head.length - this.#pos + this.#pendingBytes;
  }

  /** Adds received bytes; the reader takes ownership of `chunk` (frames are views of it). */
  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    if (this.#pos >= this.#head.length && this.#pendingBytes === 0) {
      this.#head = chunk;
      this.#pos = 0;
    } else {
      this.#pending.push(chunk);
      this.#pendingBytes += chunk.length;
    }
  }

  /** The next complete frame, or undefined until more bytes arrive; throws SpopError(3|4). */
  next(): Frame | undefined {
    if (this.#failure !== undefined) throw this.#failure;
    const available = this.bufferedBytes;
    if (this.#frameLength < 0) {
      if (available < LENGTH_BYTES) return undefined;
      if (this.#head.length - this.#pos < LENGTH_BYTES) this.#merge();
      const length = readLength(this.#head, this.#pos);
      if (length > this.maxFrameSize) {
        return this.#fail(
          new SpopError(DisconnectStatus.TOO_BIG, `Cannot decode frame: length ${length} exceeds max-frame-size ${this.maxFrameSize}`),
        );
      }
      if (length < MIN_FRAME_LENGTH) {
        return this.#fail(invalidFrame(`length ${length} is below the minimum of ${MIN_FRAME_LENGTH}`));
      }
      this.#frameLength = length;
    }
    const total = LENGTH_BYTES + this.#frameLength;
    if (available < total) return undefined;
    if (this.#head.length - this.#pos < total) this.#merge();
    const start = this.#pos;
    let frame: Frame;
    try {
      frame = viewFrame(this.#head, start, this.#frameLength);
    } catch (err) {
      return this.#fail(err instanceof SpopError ? err : invalidFrame(String(err), { cause: err }));
    }
    this.#pos = start + total;
    this.#frameLength = -1;
    if (this.#pos >= this.#head.length && this.#pendingBytes === 0) {
      this.#head = EMPTY; // frames keep their own views; drop ours so the chunk can be freed
      this.#pos = 0;
    }
    return frame;
  }

  /** Concatenates the unread part of #head and every pending chunk into one buffer. */
  #merge(): void {
    const merged = new Uint8Array(this.bufferedBytes);
    merged.set(this.#head.subarray(this.#pos), 0);
    let o = this.#head.length - this.#pos;
    for (const chunk of this.#pending) {
      merged.set(chunk, o);
      o += chunk.length;
    }
    this.#head = merged;
    this.#pos = 0;
    this.#pending = [];
    this.#pendingBytes = 0;
  }

  #fail(err: SpopError): never {
    this.#failure = err;
    this.#head = EMPTY;
    this.#pos = 0;
    this.#pending = [];
    this.#pendingBytes = 0;
    throw err;
  }
}
