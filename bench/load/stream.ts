/**
 * Splits received bytes into frames for the load generator: whole frames are handed out as
 * ranges of the chunk (no copy); only a frame cut by a chunk boundary is copied once.
 * @module
 */

/** Called per complete frame: its type and the ranges of its ids and payload in `buf`. */
export type FrameSink = (type: number, buf: Uint8Array, idStart: number, end: number) => void;

/** The largest frame accepted from an agent (HAProxy's default max-frame-size is 16380). */
const MAX_FRAME = 1 << 20;

/** Error for bytes that cannot be SPOP frames. */
export class LoadProtocolError extends Error {
  override readonly name = "LoadProtocolError";
}

/** Incremental frame splitter for one connection. */
export class FrameStream {
  #rest: Uint8Array | undefined;

  /** Feeds a chunk; calls `sink` for every frame it completes. Throws LoadProtocolError on a bad length. */
  push(chunk: Uint8Array, sink: FrameSink): void {
    let buf = chunk;
    if (this.#rest !== undefined) {
      buf = new Uint8Array(this.#rest.length + chunk.length);
      buf.set(this.#rest, 0);
      buf.set(chunk, this.#rest.length);
      this.#rest = undefined;
    }
    const n = buf.length;
    let p = 0;
    while (n - p >= 4) {
      const len = ((buf[p] << 24) | (buf[p + 1] << 16) | (buf[p + 2] << 8) | buf[p + 3]) >>> 0;
      if (len < 7 || len > MAX_FRAME) throw new LoadProtocolError(`agent sent a frame of length ${len}`);
      if (n - p - 4 < len) break;
      // type at p+4, flags p+5..p+8, ids from p+9
      sink(buf[p + 4], buf, p + 9, p + 4 + len);
      p += 4 + len;
    }
    if (p < n) this.#rest = buf.slice(p);
  }

  /** Bytes of an incomplete frame held back. */
  get pendingBytes(): number {
    return this.#rest?.length ?? 0;
  }
}
