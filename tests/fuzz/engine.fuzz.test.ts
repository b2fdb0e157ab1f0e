// Fuzzes the protocol engine (HELLO negotiation, NOTIFY dispatch, DISCONNECT) over the
// in-memory transport: structured HELLOs with random versions, sizes and capabilities, and
// mutated whole sessions in random chunks, answered by sync, async and failing handlers.
// Invariants: nothing thrown into the transport; every frame the agent writes decodes and has
// FIN; AGENT-HELLO first and only a legal negotiation; at most one AGENT-DISCONNECT, last, with
// a legal status; no ACK without its NOTIFY; no timer left once the connection is gone.
import { describe, expect, test } from "bun:test";
import type { HandlerResult } from "../../src/agent/handler.ts";
import { FrameReader } from "../../src/spop/reader.ts";
import { FrameFlag, FrameType, type Message } from "../../src/spop/types.ts";
import { readVarint } from "../../src/spop/varint.ts";
import { answerFor, handlerOf, harness } from "../agent/harness.ts";
import { FUZZ_REGRESSIONS } from "../fixtures/fuzz-regressions.ts";
import { hex } from "../fixtures/spop-vectors.ts";
import { parseReplies } from "../../src/spop/client.ts";
import { fuzz, hexOf, LEGAL_STATUSES, type Random } from "./fuzz-kit.ts";
import { randomChunks } from "./mutate.ts";
import { pick, sessionBytes } from "./sessions.ts";

const OUR_MAX_FRAME_SIZE = 16_380;
type HandlerKind = "sync" | "async" | "throws" | "rejects";
const HANDLER_KINDS: readonly HandlerKind[] = ["sync", "async", "throws", "rejects"];

interface Session {
  readonly bytes: Uint8Array;
  readonly chunks: Uint8Array[];
  readonly handler: HandlerKind;
  /** After the bytes: HAProxy closes, or the hello timer fires, or nothing. */
  readonly ending: "close" | "timers" | "none";
}

function session(random: Random): Session {
  const bytes = sessionBytes(random);
  return { bytes, chunks: randomChunks(random, bytes), handler: pick(random, HANDLER_KINDS), ending: pick(random, ["close", "timers", "none"] as const) };
}

function handlerFor(kind: HandlerKind) {
  return handlerOf((messages: readonly Message[]): HandlerResult => {
    switch (kind) {
      case "sync":
        return answerFor(messages);
      case "async":
        return Promise.resolve(answerFor(messages));
      case "throws":
        throw new Error("handler failed");
      case "rejects":
        return Promise.reject(new Error("handler rejected"));
    }
  });
}

/** NOTIFY frames with FIN the engine could have read, by exact "streamId:frameId" (a reader's view of the input). */
function notifiesIn(bytes: Uint8Array): Map<string, number> {
  const reader = new FrameReader({ maxFrameSize: OUR_MAX_FRAME_SIZE });
  reader.push(bytes.slice());
  const counts = new Map<string, number>();
  try {
    for (let frame = reader.next(); frame !== undefined; frame = reader.next()) {
      if (frame.type !== FrameType.NOTIFY || (frame.flags & FrameFlag.FIN) === 0) continue;
      const ids = { buf: frame.idBytes, pos: 0, end: frame.idBytes.length };
      const key = `${readVarint(ids)}:${readVarint(ids)}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  } catch {
    // the engine stops at the same place
  }
  return counts;
}

const macrotask = () => new Promise<void>((resolve) => setImmediate(resolve));

async function runSession(input: Session): Promise<string> {
  const h = harness({ handler: handlerFor(input.handler), maxFrameSize: OUR_MAX_FRAME_SIZE });
  const peer = h.connect();
  for (const chunk of input.chunks) peer.transport.send(chunk);
  await macrotask();
  if (input.ending === "timers") h.timers.fireAll();
  if (input.ending === "close") peer.transport.peerClose();
  await macrotask();

  const replies = parseReplies(peer.transport.output());
  for (const reply of replies) expect(reply.bytes.subarray(5, 9)).toEqual(new Uint8Array([0, 0, 0, 1]));
  const disconnects = replies.flatMap((r) => (r.type === "agent-disconnect" ? [r] : []));
  expect(disconnects.length).toBeLessThanOrEqual(1);
  if (disconnects.length === 1) {
    expect(replies.indexOf(disconnects[0])).toBe(replies.length - 1);
    expect(LEGAL_STATUSES.has(disconnects[0].status)).toBe(true);
  }
  const first = replies[0];
  if (first !== undefined) expect(["agent-hello", "agent-disconnect"]).toContain(first.type as string);
  for (const reply of replies) {
    if (reply.type !== "agent-hello") continue;
    expect(replies.indexOf(reply)).toBe(0);
    expect(reply.hello.version).toBe("2.0");
    expect(reply.hello.maxFrameSize).toBeGreaterThanOrEqual(256);
    expect(reply.hello.maxFrameSize).toBeLessThanOrEqual(OUR_MAX_FRAME_SIZE);
    expect(reply.hello.capabilities.every((c) => c === "pipelining")).toBe(true);
  }
  // Every ACK answers a NOTIFY that was sent, never more often than it was sent.
  const notifies = notifiesIn(input.bytes);
  const acked = new Map<string, number>();
  for (const reply of replies) {
    if (reply.type !== "ack") continue;
    const key = `${reply.streamId}:${reply.frameId}`;
    acked.set(key, (acked.get(key) ?? 0) + 1);
    expect(acked.get(key)).toBeLessThanOrEqual(notifies.get(key) ?? 0);
  }
  // The handler's failures are reported, never thrown at the transport; the engine's own are not failures of ours.
  if (input.handler === "sync" || input.handler === "async") expect(h.events.of("handlerFailed")).toEqual([]);
  if (peer.transport.closed) expect(h.timers.pendingCount).toBe(0);

  const hello = first?.type === "agent-hello" ? "hello" : first?.type === "agent-disconnect" ? `disconnect ${first.status}` : "silent";
  return acked.size > 0 ? `${hello}+acks` : hello;
}

describe("protocol engine fuzzing", () => {
  test("every SPOP regression vector (found by the codec, engine or socket fuzzers) keeps the engine's invariants, whole and byte by byte", async () => {
    // Any bytes a fuzzer kept are engine input: a vector found over a socket replays here in memory.
    const vectors = FUZZ_REGRESSIONS.filter((x) => x.target !== "identity");
    expect(vectors.length).toBeGreaterThan(0);
    for (const r of vectors) {
      const bytes = hex(r.hex);
      const byteByByte = Array.from(bytes, (byte) => Uint8Array.of(byte));
      for (const handler of HANDLER_KINDS) {
        for (const ending of ["close", "timers", "none"] as const) {
          await runSession({ bytes, chunks: [bytes.slice()], handler, ending });
          await runSession({ bytes, chunks: byteByByte, handler, ending });
        }
      }
    }
  });

  test("HELLO negotiation and sessions: legal replies only, one ACK per NOTIFY at most, no leaked timer", async () => {
    const stats = await fuzz({
      target: "engine/session",
      generate: session,
      check: runSession,
      describe: (s) => `handler ${s.handler}, ending ${s.ending}, chunks ${s.chunks.map((c) => c.length).join("+")}: ${hexOf(s.bytes)}`,
    });
    if (stats.replay) return;
    expect(stats.iterations).toBeGreaterThan(100);
    expect(stats.outcomes["hello+acks"] ?? 0).toBeGreaterThan(stats.iterations / 20);
    expect(Object.keys(stats.outcomes).filter((k) => k.startsWith("disconnect")).length).toBeGreaterThanOrEqual(3);
  }, 60_000);
});
