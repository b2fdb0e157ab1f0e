/**
 * What a fuzzed HAProxy connection sends: a structured HELLO with random field values, a good
 * HELLO followed by NOTIFYs (some damaged), or a mutated stream from the corpus — shared by the
 * in-process engine target and the socket run against the compiled binary.
 * @module
 */
import { FrameType } from "../../src/spop/types.ts";
import { helloFrame } from "../../src/spop/client.ts";
import { SPOP_CORPUS } from "./corpus.ts";
import type { Random } from "./fuzz-kit.ts";
import { concat, mutateFrameBody, randomBytes, spopInput } from "./mutate.ts";

const VERSION_WORDS = ["2.0", "2.1", "1.0", "2", "2.", " 2.0 ", "2.0,1.0", "", "3.0", "2.99999999999999999", "02.0", "2.0\u0000"];
const CAPABILITY_WORDS = ["pipelining", "async", "fragmentation", " pipelining ", "pipelining,async", "", "PIPELINING", ","];
const FRAME_SIZES = [0, 1, 255, 256, 257, 16_379, 16_380, 16_381, 65_535, 2 ** 32 - 1];

/** One element of `list`. */
export function pick<T>(random: Random, list: readonly T[]): T {
  return list[random(list.length)];
}

/** A well-formed HAPROXY-HELLO with random field values (or fields left out). */
function structuredHello(random: Random): Uint8Array {
  const words = (from: readonly string[]) => Array.from({ length: random(3) }, () => pick(random, from));
  return helloFrame({
    supportedVersions: random(8) === 0 ? [String.fromCharCode(...randomBytes(random, random(6)))] : words(VERSION_WORDS),
    maxFrameSize: random(4) === 0 ? random(70_000) : pick(random, FRAME_SIZES),
    capabilities: words(CAPABILITY_WORDS),
    healthcheck: random(6) === 0,
    ...(random(2) === 0 ? { engineId: "e" } : {}),
  });
}

/** Valid NOTIFYs to damage behind a good HELLO, so the fuzzer gets past the handshake. */
const NOTIFIES = SPOP_CORPUS.filter((b) => b.length > 4 && b[4] === FrameType.NOTIFY);

/** The bytes of one fuzzed connection. */
export function sessionBytes(random: Random): Uint8Array {
  const notify = () => (random(2) === 0 ? pick(random, NOTIFIES) : mutateFrameBody(random, pick(random, NOTIFIES), SPOP_CORPUS));
  const afterHello = () => Array.from({ length: 1 + random(4) }, notify);
  const parts = [
    () => [structuredHello(random), spopInput(random, SPOP_CORPUS)],
    () => [helloFrame(), ...afterHello()],
    () => [spopInput(random, SPOP_CORPUS)],
  ][random(3)]();
  return concat(...parts);
}
