import { describe, expect, test } from "bun:test";
import { AckBatch } from "../../src/agent/ack-batch.ts";
import { Answerer } from "../../src/agent/answer.ts";
import { isPromiseLike } from "../../src/agent/promise-like.ts";
import { safeEvents } from "../../src/agent/events.ts";
import type { NotifyHandler } from "../../src/agent/handler.ts";
import type { Action } from "../../src/spop/types.ts";
import { parseReplies } from "../../src/spop/client.ts";
import { FAILURE_ACTIONS } from "./harness.ts";

const ids = { idBytes: new Uint8Array([5, 1]) };
const PADDING: Action[] = [{ type: "unset-var", scope: "txn", name: "_" }];

function setup(failureActions: NotifyHandler["failureActions"] = () => FAILURE_ACTIONS) {
  const writes: Uint8Array[] = [];
  const failures: unknown[] = [];
  const out = new AckBatch((b) => writes.push(b), { maxFrameSize: 16380 });
  const answers = new Answerer(out, {
    handler: { handle: () => [], failureActions },
    events: safeEvents({ handlerFailed: (_id, e) => failures.push(e) }),
    connectionId: 1,
  });
  const actions = () => {
    out.flush();
    return writes.flatMap((w) => parseReplies(w)).map((r) => r.type === "ack" && r.actions);
  };
  return { answers, actions, failures };
}

describe("Answerer", () => {
  test("answer() sends the padding unset-var instead of an empty ACK", () => {
    const s = setup();
    s.answers.answer(ids, [], []);
    expect(s.actions()).toEqual([PADDING]);
  });

  test("answer() turns a non-array into the failure actions", () => {
    const s = setup();
    s.answers.answer(ids, "nope", []);
    expect(s.actions()).toEqual([FAILURE_ACTIONS]);
    expect(s.failures[0]).toBeInstanceOf(TypeError);
  });

  test("fail() falls back to the padding when failureActions throws or returns nothing", () => {
    const throwing = setup(() => {
      throw new Error("no");
    });
    throwing.answers.fail(ids, new Error("boom"), []);
    expect(throwing.actions()).toEqual([PADDING]);
    expect(throwing.failures.length).toBe(2);

    const empty = setup(() => []);
    empty.answers.fail(ids, new Error("boom"), []);
    expect(empty.actions()).toEqual([PADDING]);
  });
});

describe("isPromiseLike()", () => {
  test("is true for promises and thenables, false for arrays and plain values", () => {
    expect(isPromiseLike(Promise.resolve([]))).toBe(true);
    expect(isPromiseLike({ then() {} })).toBe(true);
    expect(isPromiseLike([])).toBe(false);
    expect(isPromiseLike(null)).toBe(false);
    expect(isPromiseLike(undefined)).toBe(false);
  });
});
