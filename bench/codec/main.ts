/**
 * Codec and hot-path microbenchmarks (mitata). Every sample runs OPS operations over OPS
 * different frames/keys, so per-call timer overhead vanishes; results are ns per operation.
 *   bun run bench/codec/main.ts [--json] [--filter REGEX]
 *   ./node_modules/.bin/deno run -A bench/codec/main.ts
 * Target (issue 6): decode NOTIFY + encode ACK ≥ 2,000,000/s on one core.
 * @module
 */
import { do_not_optimize, run } from "mitata";
import { bench } from "mitata";
import type { Action, Frame, Message } from "../../src/spop/types.ts";
import { defaultLimit } from "../../src/config/limits.ts";
import { createRateLimitHandler, DEFAULT_MESSAGE_NAME } from "../../src/ratelimit/handler.ts";
import { DEFAULT_IDENTITY_OPTIONS } from "../../src/ratelimit/identity/identity.ts";
import { MemoryStore } from "../../src/ratelimit/memory/store.ts";
import { compilePolicies } from "../../src/ratelimit/policy/compile.ts";
import { limitAnswer } from "../../src/ratelimit/answer/limit-answer.ts";
import type { Decision, LimitCheck } from "../../src/ratelimit/store.ts";
import { decisionActions } from "../../src/ratelimit/answer/variables.ts";
import { decodeNotify, writeAck } from "../../src/spop/frame.ts";
import { viewFrame } from "../../src/spop/frame-view.ts";
import { FrameReader } from "../../src/spop/reader.ts";
import { readVarint, writeVarint } from "../../src/spop/varint.ts";
import { Writer } from "../../src/spop/writer.ts";
import { AddressPool, notifyTemplate } from "../load/frames.ts";

/** Operations per sample. */
const OPS = 64;
/** The Deno global when running under Deno (bench/ is type-checked with Bun's types only). */
const deno = (globalThis as { Deno?: { args: string[]; version: { deno: string } } }).Deno;
const args = deno !== undefined ? deno.args : process.argv.slice(2);
const asJson = args.includes("--json");
const filterAt = args.indexOf("--filter");
const filter = filterAt >= 0 ? new RegExp(args[filterAt + 1]) : undefined;

// 64 typical NOTIFYs (seed args, 20 % IPv6 sources, stream-ids around 4242 as classic HAProxy sends them).
const template = notifyTemplate(DEFAULT_MESSAGE_NAME);
const pool = new AddressPool({ keys: OPS, ipv6Share: 0.2 });
const chunk = new Uint8Array(OPS * template.maxBytes);
const frameOffsets: number[] = [];
let length = 0;
for (let i = 0; i < OPS; i++) {
  frameOffsets.push(length);
  length = template.write(chunk, length, { streamId: 4242 + i, frameId: 1 }, pool.address(i));
}
const frames = chunk.slice(0, length);
const frameLength = (i: number) => (i + 1 < OPS ? frameOffsets[i + 1] : length) - frameOffsets[i] - 4;
const decodedFrames: Frame[] = frameOffsets.map((o, i) => viewFrame(frames, o, frameLength(i)));
const messages: Message[][] = decodedFrames.map((f) => decodeNotify(f));

const limit = defaultLimit({ intervalUs: 1, burstUs: 1_000_000_000, messages: [DEFAULT_MESSAGE_NAME] });
let fakeNow = 1_700_000_000_000_000;
const clock = { nowUs: () => (fakeNow += 1) };
const store = new MemoryStore({ clock, maxKeys: 1_000_000, seed: 1 });
const handler = createRateLimitHandler({
  policies: compilePolicies([limit], { keyPrefix: "rl:" }),
  identity: DEFAULT_IDENTITY_OPTIONS,
  store,
  failure: "allow",
});
const ctx = { streamId: 1, frameId: 1, connectionId: 1 };
const allowActions = handler.handle(messages[0], ctx) as readonly Action[];
if (!Array.isArray(allowActions)) throw new Error("the memory-store handler answered asynchronously");
// Decisions as the memory store returns them, for the ACK-building cases (no store in the loop).
const matchedOne = { limits: [{ ...limit, answer: limitAnswer(limit) }] };
const allowDecisions: Decision[] = Array.from({ length: OPS }, (_, i) => ({
  allowed: true,
  decidingIndex: 0,
  degraded: false,
  results: [{ allowed: true, neverPasses: false, retryAfterUs: 0, remaining: 999_000_000 + i * 1_000, resetUs: 1_000 + i }],
}));
const denyDecisions: Decision[] = allowDecisions.map((d) => ({
  ...d,
  allowed: false,
  results: [{ ...d.results[0], allowed: false, remaining: 0, retryAfterUs: 250_000, resetUs: 1_000_000_000 }],
}));
/** The deny ACK (retry_after, remaining 0): 9 set-vars. */
const denyActions: readonly Action[] = decisionActions(denyDecisions[0], matchedOne);
/** The brief's minimal allow ACK: sess ip_score 0, txn allowed true. */
const twoActions: readonly Action[] = allowActions.slice(0, 2);
const checks: LimitCheck[][] = Array.from({ length: OPS }, (_, i) => [{ key: `rl:{10.0.0.${i}}:default:x`, params: limit.params, cost: 1, shadow: false }]);

const writer = new Writer(64 * 1024);
const varintBuf = new Uint8Array(16);
const varintValues = [1, 239, 240, 4242, 16380, 264431, 264432, 2 ** 31 - 1];
const varintCursor = { buf: new Uint8Array(OPS * 10), pos: 0, end: 0 };
for (let i = 0; i < OPS; i++) varintCursor.end = writeVarint(varintCursor.buf, varintCursor.end, varintValues[i % varintValues.length]);

/** name → description, for the summary. */
const descriptions = new Map<string, string>();
function op(name: string, description: string, fn: () => unknown): void {
  if (filter !== undefined && !filter.test(name)) return;
  descriptions.set(name, description);
  bench(name, fn);
}

op("decode NOTIFY", "viewFrame + decodeNotify of a seed NOTIFY (3 args)", () => {
  for (let i = 0; i < OPS; i++) do_not_optimize(decodeNotify(viewFrame(frames, frameOffsets[i], frameLength(i))));
});
op("encode ACK (full allow)", `writeAck with the handler's allow actions (${allowActions.length} set-vars)`, () => {
  writer.reset();
  for (let i = 0; i < OPS; i++) writeAck(writer, decodedFrames[i], allowActions);
  do_not_optimize(writer.length);
});
op("encode ACK (full deny)", `writeAck with deny actions (${denyActions.length} set-vars)`, () => {
  writer.reset();
  for (let i = 0; i < OPS; i++) writeAck(writer, decodedFrames[i], denyActions);
  do_not_optimize(writer.length);
});
op("decisionActions (allow)", "build the allow ACK's actions from a Decision", () => {
  for (let i = 0; i < OPS; i++) do_not_optimize(decisionActions(allowDecisions[i], matchedOne));
});
op("decode + decisionActions + encode", "decode + build + encode the real allow ACK: the codec share of a decision", () => {
  writer.reset();
  for (let i = 0; i < OPS; i++) {
    const f = viewFrame(frames, frameOffsets[i], frameLength(i));
    do_not_optimize(decodeNotify(f));
    writeAck(writer, f, decisionActions(allowDecisions[i], matchedOne));
  }
  do_not_optimize(writer.length);
});
op("encode ACK (2 set-vars)", "writeAck with sess ip_score 0 + txn allowed true", () => {
  writer.reset();
  for (let i = 0; i < OPS; i++) writeAck(writer, decodedFrames[i], twoActions);
  do_not_optimize(writer.length);
});
op("decode NOTIFY + encode ACK (2 set-vars)", "decode + the minimal allow ACK", () => {
  writer.reset();
  for (let i = 0; i < OPS; i++) {
    const f = viewFrame(frames, frameOffsets[i], frameLength(i));
    do_not_optimize(decodeNotify(f));
    writeAck(writer, f, twoActions);
  }
  do_not_optimize(writer.length);
});
op("decode NOTIFY + encode ACK", "decode + the handler's full allow ACK", () => {
  writer.reset();
  for (let i = 0; i < OPS; i++) {
    const f = viewFrame(frames, frameOffsets[i], frameLength(i));
    do_not_optimize(decodeNotify(f));
    writeAck(writer, f, allowActions);
  }
  do_not_optimize(writer.length);
});
op("varint encode", "writeVarint of values from 1 to 2^31−1", () => {
  let p = 0;
  for (let i = 0; i < OPS; i++) p = writeVarint(varintBuf, 0, varintValues[i & 7]) + p;
  do_not_optimize(p);
});
op("varint decode", "readVarint of the same values", () => {
  varintCursor.pos = 0;
  let s = 0;
  for (let i = 0; i < OPS; i++) s += readVarint(varintCursor) as number;
  do_not_optimize(s);
});
op("FrameReader (chunk of 64)", "push one 64-frame chunk, next() every frame", () => {
  const reader = new FrameReader({ maxFrameSize: 16380 });
  reader.push(frames);
  for (let i = 0; i < OPS; i++) do_not_optimize(reader.next());
});
op("memory-store check", "MemoryStore.check of one limit, 64 distinct keys", () => {
  for (let i = 0; i < OPS; i++) do_not_optimize(store.check(checks[i]));
});
op("handler (messages → actions)", "rate-limit handler: identity, policy, store, actions", () => {
  for (let i = 0; i < OPS; i++) do_not_optimize(handler.handle(messages[i], ctx));
});
op("full path (bytes → ACK bytes)", "FrameReader + decode + handler + writeAck, what the engine does per NOTIFY", () => {
  const reader = new FrameReader({ maxFrameSize: 16380 });
  reader.push(frames);
  writer.reset();
  for (let i = 0; i < OPS; i++) {
    const f = reader.next() as Frame;
    writeAck(writer, f, handler.handle(decodeNotify(f), ctx) as readonly Action[]);
  }
  do_not_optimize(writer.length);
});

const result = await run({ format: asJson ? "quiet" : "mitata" });
const runtime = deno !== undefined ? `deno ${deno.version.deno}` : typeof Bun !== "undefined" ? `bun ${Bun.version}` : `node ${process.version}`;
const rows = result.benchmarks.flatMap((t) =>
  t.runs.flatMap((r) =>
    r.stats === undefined ? [] : [{ name: r.name, description: descriptions.get(r.name) ?? "", nsPerOp: r.stats.avg / OPS, p50NsPerOp: r.stats.p50 / OPS, opsPerSecond: 1e9 / (r.stats.avg / OPS) }]
  )
);
if (asJson) {
  console.log(JSON.stringify({ runtime, cpu: result.context.cpu.name, opsPerSample: OPS, results: rows }));
} else {
  console.log(`\n${runtime} — per operation (${OPS} operations per sample):`);
  for (const r of rows) console.log(`${r.name.padEnd(32)} ${r.nsPerOp.toFixed(1).padStart(8)} ns/op  ${Math.round(r.opsPerSecond).toLocaleString("en-US").padStart(12)} ops/s`);
}
