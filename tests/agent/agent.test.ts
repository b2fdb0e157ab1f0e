import { describe, expect, test } from "bun:test";
import { Agent } from "../../src/agent/agent.ts";
import { DRAIN_QUIET_MS } from "../../src/agent/connection.ts";
import { MemoryTransport } from "../../src/agent/memory-transport.ts";
import { message, notifyFrame } from "../../src/spop/client.ts";
import { answerFor, deferred, FakeTimers, handlerOf, harness, settle } from "./harness.ts";
import { V1, V14, V5 } from "./vectors.ts";

type Pending = ReturnType<typeof deferred<ReturnType<typeof answerFor>>>;

/** A handler whose answers the test releases one by one. */
function manualHandler() {
  const pending: Pending[] = [];
  const handler = handlerOf(() => {
    const d: Pending = deferred();
    pending.push(d);
    return d.promise;
  });
  return { handler, pending };
}

describe("Agent options", () => {
  const timers = new FakeTimers();
  const handler = handlerOf(() => []);

  test("rejects a maxFrameSize outside [256, 16 MiB] with RangeError", () => {
    expect(() => new Agent({ handler, timers, maxFrameSize: 255 })).toThrow(RangeError);
    expect(() => new Agent({ handler, timers, maxFrameSize: 16 * 1024 * 1024 + 1 })).toThrow(RangeError);
    expect(() => new Agent({ handler, timers, maxFrameSize: 1000.5 })).toThrow(RangeError);
    expect(() => new Agent({ handler, timers, maxFrameSize: 256 })).not.toThrow();
  });

  test("rejects a non-positive maxInFlight or helloTimeoutMs with RangeError", () => {
    expect(() => new Agent({ handler, timers, maxInFlight: 0 })).toThrow(RangeError);
    expect(() => new Agent({ handler, timers, helloTimeoutMs: -1 })).toThrow(RangeError);
  });

  test("arms the HELLO timer with the default of 10 s", () => {
    const h = harness();
    h.connect();
    expect(h.timers.delays()).toEqual([10_000]);
  });
});

describe("Agent connections", () => {
  test("counts connections and reports open and close events", async () => {
    const h = harness();
    const a = h.ready();
    h.ready();
    expect(h.agent.connectionCount).toBe(2);
    a.transport.peerClose();
    expect(h.agent.connectionCount).toBe(1);
    expect(h.events.of("connectionOpened")).toEqual([[1, "127.0.0.1:40000"], [2, "127.0.0.1:40000"]]);
    expect(h.events.of("connectionClosed")).toEqual([[1, "peer-closed"]]);
  });

  test("keeps working when an event hook throws", () => {
    const h = harness({
      events: {
        frameReceived() {
          throw new Error("observer bug");
        },
      },
    });
    const peer = h.ready();
    peer.transport.send(V5);
    expect(peer.replies().map((r) => r.type)).toEqual(["agent-hello", "ack"]);
  });
});

describe("Agent backpressure", () => {
  test("pauses every connection at maxInFlight and resumes below 90 % after answers", async () => {
    const { handler, pending } = manualHandler();
    const h = harness({ handler, maxInFlight: 10 });
    const a = h.ready();
    const b = h.ready();
    const frames = (n: number, base: number) =>
      Array.from({ length: n }, (_, i) => notifyFrame({ streamId: base + 2 * i, frameId: 1 }, [message("m")]));
    for (const f of frames(6, 1)) a.transport.send(f);
    expect(a.transport.paused).toBe(false);
    for (const f of frames(6, 101)) b.transport.send(f);
    // The 10th NOTIFY engaged the cap: both paused, the last 2 frames of b wait unread.
    expect(h.agent.inFlight).toBe(10);
    expect([a.transport.paused, b.transport.paused]).toEqual([true, true]);
    expect(h.events.of("readPaused")).toEqual([[true]]);

    pending[0].resolve([]);
    await settle();
    // 9 in flight is at the 90 % mark: reading resumes, b's held frames are read, the cap engages again.
    expect(h.events.of("readPaused")).toEqual([[true], [false], [true]]);
    expect(h.agent.inFlight).toBe(10);
    expect(b.transport.heldBytes).toBeGreaterThan(0);

    for (const d of pending.slice(1)) d.resolve([]);
    await settle();
    for (const d of pending.slice(11)) d.resolve([]);
    await settle();
    expect(h.agent.inFlight).toBe(0);
    expect([a.transport.paused, b.transport.paused]).toEqual([false, false]);
    expect(a.replies().filter((r) => r.type === "ack").length).toBe(6);
    expect(b.replies().filter((r) => r.type === "ack").length).toBe(6);
  });

  test("stops reading frames already buffered in a chunk once the cap is reached", async () => {
    const { handler, pending } = manualHandler();
    const h = harness({ handler, maxInFlight: 3 });
    const peer = h.ready();
    const chunk = Array.from({ length: 5 }, (_, i) => notifyFrame({ streamId: 2 * i + 1, frameId: 1 }, [message("m")]));
    const joined = new Uint8Array(chunk.reduce((n, c) => n + c.length, 0));
    chunk.reduce((at, c) => (joined.set(c, at), at + c.length), 0);
    peer.transport.send(joined);
    expect(pending.length).toBe(3);
    pending[0].resolve([]);
    pending[1].resolve([]);
    await settle();
    expect(pending.length).toBe(5);
    for (const d of pending) d.resolve([]);
    await settle();
    expect(peer.replies().filter((r) => r.type === "ack").length).toBe(5);
  });

  test("pauses a connection whose write returns false until drained()", () => {
    const h = harness();
    const peer = h.connect();
    peer.transport.writeResult = false;
    peer.transport.send(V1);
    expect(peer.transport.paused).toBe(true);
    peer.transport.send(V5);
    expect(peer.transport.writes.length).toBe(1);
    peer.transport.drain();
    expect(peer.transport.paused).toBe(false);
  });

  test("answers frames held during a congested write once drained", async () => {
    const peer = harness().connect();
    peer.transport.writeResult = false;
    peer.transport.send(V1);
    peer.transport.send(V5);
    peer.transport.drain();
    await settle();
    expect(peer.replies().map((r) => r.type)).toEqual(["agent-hello", "ack"]);
  });
});

describe("Agent.drain()", () => {
  test("answers in-flight NOTIFYs, then sends AGENT-DISCONNECT 0 and ends; idle connections after the quiet window", async () => {
    const { handler, pending } = manualHandler();
    const h = harness({ handler });
    const busy = h.ready();
    const idle = h.ready();
    const early = h.connect();
    busy.transport.send(V5);
    const drained = h.agent.drain({ graceMs: 5000 });
    // NOTIFYs HAProxy sent before the signal may still be in the socket: keep reading a moment.
    expect(idle.transport.ended).toBe(false);
    h.timers.fire(DRAIN_QUIET_MS);

    expect(idle.transport.writes.at(-1)).toEqual(V14);
    expect(idle.transport.ended).toBe(true);
    expect(early.transport.ended).toBe(true);
    expect(early.transport.writes).toEqual([]);
    expect(busy.transport.ended).toBe(false);

    pending[0].resolve(answerFor([message("rate-limit")]));
    await settle();
    expect(busy.replies().map((r) => r.type)).toEqual(["agent-hello", "ack", "agent-disconnect"]);
    expect(busy.transport.writes.at(-1)?.subarray(-V14.length)).toEqual(V14);
    expect(busy.transport.ended).toBe(true);
    await drained;
    expect(h.agent.connectionCount).toBe(0);
    expect(h.timers.pendingCount).toBe(0);
    expect(h.events.of("connectionClosed").map(([, reason]) => reason)).toEqual(["drained", "drained", "drained"]);
  });

  test("still answers NOTIFYs received while waiting for in-flight ones", async () => {
    const { handler, pending } = manualHandler();
    const h = harness({ handler });
    const peer = h.ready();
    peer.transport.send(V5);
    const drained = h.agent.drain();
    peer.transport.send(notifyFrame({ streamId: 3, frameId: 1 }, [message("m")]));
    expect(pending.length).toBe(2);
    pending[0].resolve([]);
    await settle();
    expect(peer.transport.ended).toBe(false);
    h.timers.fire(DRAIN_QUIET_MS);
    expect(peer.transport.ended).toBe(false);
    pending[1].resolve([]);
    await settle();
    await drained;
    expect(peer.replies().map((r) => r.type)).toEqual(["agent-hello", "ack", "ack", "agent-disconnect"]);
  });

  test("ends the transports still open when graceMs expires, then resolves", async () => {
    const { handler } = manualHandler();
    const h = harness({ handler });
    const peer = h.ready();
    peer.transport.send(V5);
    let resolved = false;
    const drained = h.agent.drain({ graceMs: 100 }).then(() => {
      resolved = true;
    });
    await settle();
    expect(resolved).toBe(false);
    expect(h.timers.delays().sort((a, b) => a - b)).toEqual([DRAIN_QUIET_MS, 100]);
    h.timers.fireAll();
    await drained;
    expect(peer.transport.ended).toBe(true);
  });

  test("resolves at once without connections and ends transports accepted afterwards", async () => {
    const h = harness();
    await h.agent.drain();
    const late = new MemoryTransport();
    late.attach(h.agent.accept(late));
    expect(late.ended).toBe(true);
    late.port.receive(V1);
    await settle();
    expect(late.writes).toEqual([]);
    expect(h.agent.connectionCount).toBe(0);
  });

  test("returns the same promise when called twice", () => {
    const h = harness();
    h.ready();
    expect(h.agent.drain()).toBe(h.agent.drain());
  });
});
