// Fuzzes the SPOP codec with mutated protocol vectors and random bytes, fed in random chunks:
// FrameReader, decodeFrame (every frame type, the NOTIFY decoder among them) and the NOTIFY
// message decoder on bare payloads. Invariants: nothing escapes but a SpopError with a legal
// status; the reader does bounded work per byte, buffers at most one frame plus one chunk, and
// stays failed once failed; a decoded frame re-encodes to a frame that decodes the same.
import { describe, expect, test } from "bun:test";
import { type DecodedFrame, decodeFrame, encodeFrame } from "../../src/spop/codec.ts";
import { SpopError } from "../../src/spop/errors.ts";
import { decodeMessages } from "../../src/spop/messages.ts";
import { FrameReader } from "../../src/spop/reader.ts";
import { FrameType, MIN_FRAME_LENGTH } from "../../src/spop/types.ts";
import { FUZZ_REGRESSIONS } from "../fixtures/fuzz-regressions.ts";
import { hex } from "../fixtures/spop-vectors.ts";
import { SPOP_CORPUS } from "./corpus.ts";
import { fuzz, hexOf, type Random, spopOutcome } from "./fuzz-kit.ts";
import { mutate, randomChunks, spopInput } from "./mutate.ts";

const MAX_FRAME_SIZES = [256, 1024, 16_380, 65_535];

interface ReaderInput {
  readonly bytes: Uint8Array;
  readonly chunks: Uint8Array[];
  readonly maxFrameSize: number;
}

function readerInput(random: Random): ReaderInput {
  const bytes = spopInput(random, SPOP_CORPUS);
  return { bytes, chunks: randomChunks(random, bytes), maxFrameSize: MAX_FRAME_SIZES[random(MAX_FRAME_SIZES.length)] };
}

/** A HELLO's `healthcheck: false` and an absent healthcheck mean the same; the encoder omits it. */
function normalized(frame: DecodedFrame): DecodedFrame {
  if (frame.type !== "haproxy-hello" || frame.hello.healthcheck !== false) return frame;
  const { healthcheck: _, ...hello } = frame.hello;
  return { type: "haproxy-hello", hello };
}

/** decodeFrame on one whole frame; a decoded known frame must survive encode → decode unchanged. */
function decodeWhole(bytes: Uint8Array): number | "ok" {
  return spopOutcome(() => {
    const decoded = decodeFrame(bytes);
    if (decoded.type === "unknown") return;
    const again = decodeFrame(encodeFrame(decoded));
    expect(normalized(again)).toEqual(normalized(decoded));
  });
}

/** Pushes the chunks, drains frames after each, and checks every frame and the reader's state. */
function readAll(input: ReaderInput): string {
  const reader = new FrameReader({ maxFrameSize: input.maxFrameSize });
  let pushed = 0;
  let consumed = 0;
  let frames = 0;
  let failure: SpopError | undefined;
  for (const chunk of input.chunks) {
    reader.push(chunk);
    pushed += chunk.length;
    for (;;) {
      const before = reader.bufferedBytes;
      let frame;
      try {
        frame = reader.next();
      } catch (error) {
        spopOutcome(() => {
          throw error;
        });
        failure = error as SpopError;
        break;
      }
      if (frame === undefined) break;
      // Each frame takes at least its 4-byte length and the 7-byte minimum: no free lunch.
      const size = before - reader.bufferedBytes;
      expect(size).toBeGreaterThanOrEqual(4 + MIN_FRAME_LENGTH);
      expect(++frames).toBeLessThanOrEqual(Math.floor(pushed / (4 + MIN_FRAME_LENGTH)));
      decodeWhole(input.bytes.subarray(consumed, consumed + size));
      expect(frame.type).toBe(input.bytes[consumed + 4]);
      consumed += size;
    }
    if (failure !== undefined) break;
    // At most one frame in the making plus the chunk that has not completed it.
    expect(reader.bufferedBytes).toBeLessThanOrEqual(4 + input.maxFrameSize + chunk.length);
    expect(consumed + reader.bufferedBytes).toBe(pushed);
  }
  if (failure === undefined) return frames > 0 ? "frames" : "incomplete";
  // A failed reader stays failed and holds nothing.
  expect(() => reader.next()).toThrow(failure);
  expect(reader.bufferedBytes).toBe(0);
  return `status ${failure.status}`;
}

const NOTIFY_PAYLOADS = SPOP_CORPUS.flatMap((bytes) => {
  try {
    const frame = decodeFrame(bytes);
    return frame.type === "notify" ? [bytes.subarray(4 + 5 + (bytes[9] < 240 ? 1 : 3) + 1)] : [];
  } catch {
    return [];
  }
});

describe("SPOP codec fuzzing", () => {
  test("regression vectors still hold", () => {
    for (const r of FUZZ_REGRESSIONS.filter((x) => x.target === "codec" || x.target === "engine" || x.target === "socket")) {
      const bytes = hex(r.hex);
      readAll({ bytes, chunks: [bytes.slice()], maxFrameSize: 16_380 });
    }
  });

  test("FrameReader and decodeFrame: only SpopErrors with a legal status, bounded work and buffering", async () => {
    const stats = await fuzz({
      target: "codec/frame-reader",
      generate: readerInput,
      check: readAll,
      describe: (input) => `max-frame-size ${input.maxFrameSize}, chunks ${input.chunks.map((c) => c.length).join("+")}: ${hexOf(input.bytes)}`,
    });
    if (stats.replay) return;
    expect(stats.iterations).toBeGreaterThan(100);
    // The mix reaches the interesting places: whole frames and rejections with several statuses.
    expect(stats.outcomes.frames ?? 0).toBeGreaterThan(0);
    expect(Object.keys(stats.outcomes).filter((k) => k.startsWith("status")).length).toBeGreaterThanOrEqual(2);
  }, 60_000);

  test("the NOTIFY message decoder on bare payloads: only SpopErrors with a legal status", async () => {
    expect(NOTIFY_PAYLOADS.length).toBeGreaterThan(2);
    const stats = await fuzz({
      target: "codec/notify-messages",
      generate: (random) => mutate(random, NOTIFY_PAYLOADS[random(NOTIFY_PAYLOADS.length)], NOTIFY_PAYLOADS),
      check: (payload) => {
        const outcome = spopOutcome(() => void decodeMessages(payload));
        return outcome === "ok" ? "decoded" : `status ${outcome}`;
      },
      describe: hexOf,
    });
    if (!stats.replay) expect(stats.outcomes.decoded ?? 0).toBeGreaterThan(0);
  }, 60_000);

  test("the corpus holds a frame of every type HAProxy sends", () => {
    const types = new Set(SPOP_CORPUS.map((b) => b[4]));
    for (const t of [FrameType.HAPROXY_HELLO, FrameType.HAPROXY_DISCONNECT, FrameType.NOTIFY]) expect(types).toContain(t);
  });
});
