/**
 * Per-connection output batching: frames finished in one tick leave in one write, and a
 * frame is never split across writes (HAProxy 3.2+ resets on split frames, spop-protocol.md §1).
 * @module
 */
import { writeAck } from "../spop/frame.ts";
import { Writer } from "../spop/writer.ts";
import type { Action, Frame } from "../spop/types.ts";

/**
 * The harmless action sent instead of an empty ACK: early 3.1.x never woke the stream on an
 * empty ACK (spop-protocol.md §12), and unsetting a variable nobody uses is a no-op everywhere.
 */
export const PADDING_ACTIONS: readonly Action[] = Object.freeze([
  Object.freeze({ type: "unset-var", scope: "txn", name: "_" } as const),
]);

/** Room for a few typical ACKs before the writer has to grow. */
const INITIAL_CAPACITY = 1024;

/** Receives the batched bytes of one flush (the connection hands them to its transport). */
export type Sink = (bytes: Uint8Array) => void;

/** A connection's output buffer with one-write-per-tick flushing. */
export class AckBatch {
  /** The negotiated max-frame-size: no frame we send may have a larger LENGTH (§5). */
  maxFrameSize: number;
  readonly #writer = new Writer(INITIAL_CAPACITY);
  readonly #sink: Sink;
  /** Complete frames rescued from the writer after an encoding failure (rare path). */
  #rescued: Uint8Array | undefined;
  #flushScheduled = false;
  #closed = false;

  constructor(sink: Sink, options: { maxFrameSize: number }) {
    this.#sink = sink;
    this.maxFrameSize = options.maxFrameSize;
  }

  /** Bytes waiting to be flushed. */
  get pendingBytes(): number {
    return this.#writer.length + (this.#rescued?.length ?? 0);
  }

  /**
   * Encodes one frame with `encode`; if encoding throws or the frame exceeds max-frame-size,
   * every byte of it is discarded (frames queued before it are kept) and the error is thrown.
   */
  frame(encode: (w: Writer) => void): void {
    const before = this.#writer.length;
    try {
      encode(this.#writer);
    } catch (error) {
      this.#rollback(before);
      throw error;
    }
    this.#checkSize(before);
  }

  /**
   * Queues one ACK (same guarantees as frame()); `actions` must be non-empty (see PADDING_ACTIONS).
   * `notify`: the NOTIFY Frame while its chunk is still valid, else a held `{ idBytes }` (see writeAck).
   */
  ack(notify: Pick<Frame, "idBytes">, actions: readonly Action[]): void {
    // Inlined rather than frame(() => …): this is the hot path, one closure less per ACK.
    const before = this.#writer.length;
    try {
      writeAck(this.#writer, notify, actions);
    } catch (error) {
      this.#rollback(before);
      throw error;
    }
    this.#checkSize(before);
  }

  /** Sends everything queued, in one write. */
  flush(): void {
    if (this.#closed) return;
    const rescued = this.#rescued;
    if (rescued === undefined && this.#writer.length === 0) return;
    let bytes = this.#writer.take();
    if (rescued !== undefined) {
      this.#rescued = undefined;
      bytes = concat(rescued, bytes);
    }
    this.#sink(bytes);
  }

  /** Flushes once at the end of the current microtask batch, whatever the number of calls. */
  scheduleFlush(): void {
    if (this.#flushScheduled || this.#closed) return;
    this.#flushScheduled = true;
    queueMicrotask(() => {
      this.#flushScheduled = false;
      this.flush();
    });
  }

  /** Drops everything queued and refuses further flushes (the socket is gone). */
  close(): void {
    this.#closed = true;
    this.#rescued = undefined;
    this.#writer.reset();
  }

  #checkSize(before: number): void {
    const length = this.#writer.length - before - 4;
    if (length > this.maxFrameSize) {
      this.#rollback(before);
      throw new RangeError(`Cannot send frame: length ${length} exceeds max-frame-size ${this.maxFrameSize}`);
    }
  }

  /** Keeps the complete frames written before `length`, drops the rest. */
  #rollback(length: number): void {
    const all = this.#writer.take();
    const kept = all.subarray(0, length);
    if (kept.length > 0) {
      this.#rescued = this.#rescued === undefined ? kept : concat(this.#rescued, kept);
    }
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (b.length === 0) return a;
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
