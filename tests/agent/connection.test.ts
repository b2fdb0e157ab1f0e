import { describe, expect, test } from "bun:test";
import { Writer } from "../../src/spop/writer.ts";
import type { Action, Message } from "../../src/spop/types.ts";
import { helloFrame, message, notifyFrame, rawFrame } from "../../src/spop/client.ts";
import { answerFor, FAILURE_ACTIONS, deferred, handlerOf, harness, type Peer, settle } from "./harness.ts";
import { V1, V12, V14, V1B, V2, V3, V4B, V5, V5_CLASSIC } from "./vectors.ts";

const PADDING: Action[] = [{ type: "unset-var", scope: "txn", name: "_" }];

/** A KV-list payload of string and uint32 items, to build HELLOs with keys missing. */
function kvPayload(items: Record<string, string | number>): Uint8Array {
  const w = new Writer(128);
  for (const [key, value] of Object.entries(items)) {
    w.name(key);
    if (typeof value === "number") {
      w.u8(3);
      w.varint(value);
    } else {
      w.u8(8);
      w.string(value);
    }
  }
  return w.take();
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function expectDisconnect(peer: Peer, status: number): void {
  const last = peer.replies().at(-1);
  expect(last?.type).toBe("agent-disconnect");
  expect(last?.type === "agent-disconnect" && last.status).toBe(status);
  expect(peer.transport.ended).toBe(true);
}

describe("Connection handshake", () => {
  test("answers the 3.1+ HELLO V1 with exactly V3 in one write", () => {
    const h = harness();
    const peer = h.connect();
    peer.transport.send(V1);
    expect(peer.transport.writes).toEqual([V3]);
    expect(h.timers.pendingCount).toBe(0);
    expect(h.events.of("helloReceived")).toEqual([[1]]);
  });

  test("answers the 2.x HELLO V1b (pipelining,async) with capabilities pipelining only", () => {
    const peer = harness().connect();
    peer.transport.send(V1B);
    expect(peer.transport.writes).toEqual([V3]);
  });

  test("answers capabilities \"\" when HAProxy does not offer pipelining", () => {
    const peer = harness().connect();
    peer.client.hello({ capabilities: [] });
    const [reply] = peer.replies();
    expect(reply.type === "agent-hello" && reply.hello.capabilities).toEqual([]);
  });

  test("answers max-frame-size = min(ours, HAProxy's) both ways", () => {
    const small = harness({ maxFrameSize: 4096 }).connect();
    small.transport.send(V1);
    const [a] = small.replies();
    expect(a.type === "agent-hello" && a.hello.maxFrameSize).toBe(4096);

    const big = harness().connect();
    big.client.hello({ maxFrameSize: 1000 });
    const [b] = big.replies();
    expect(b.type === "agent-hello" && b.hello.maxFrameSize).toBe(1000);
  });

  test("enforces the negotiated max-frame-size on later frames with status 3", () => {
    const peer = harness().connect();
    peer.client.hello({ maxFrameSize: 300 });
    peer.client.notify({ streamId: 1, frameId: 1 }, [message("m", "x".repeat(400))]);
    expectDisconnect(peer, 3);
  });

  test("answers the health-check HELLO V2 with exactly V4b, alone, and sends nothing more", () => {
    const h = harness();
    const peer = h.connect();
    peer.transport.send(concat(V2, V5));
    expect(peer.transport.writes).toEqual([V4B]);
    expect(peer.transport.ended).toBe(false);
    peer.transport.send(V5);
    expect(peer.transport.writes).toEqual([V4B]);
    peer.transport.peerClose();
    expect(h.events.of("connectionClosed")).toEqual([[1, "peer-closed"]]);
  });

  test("closes a health-check connection left open past helloTimeoutMs without sending anything", async () => {
    const h = harness({ helloTimeoutMs: 2000 });
    const peer = h.connect();
    peer.transport.send(V2);
    expect(h.timers.delays()).toEqual([2000]);
    h.timers.fireAll();
    expect(peer.transport.writes).toEqual([V4B]);
    expect(peer.transport.ended).toBe(true);
    await settle();
    expect(h.events.of("connectionClosed")).toEqual([[1, "hello-timeout"]]);
  });

  test("sends AGENT-DISCONNECT 2 when no HELLO arrives within helloTimeoutMs", async () => {
    const h = harness({ helloTimeoutMs: 500 });
    const peer = h.connect();
    expect(h.timers.delays()).toEqual([500]);
    h.timers.fireAll();
    expectDisconnect(peer, 2);
    await settle();
    expect(h.agent.connectionCount).toBe(0);
    expect(h.events.of("connectionClosed")).toEqual([[1, "hello-timeout"]]);
  });

  test("handles a HELLO and NOTIFY delivered one byte at a time", () => {
    const peer = harness().connect();
    for (const byte of concat(V1, V5)) peer.transport.send(new Uint8Array([byte]));
    expect(peer.replies().map((r) => r.type)).toEqual(["agent-hello", "ack"]);
  });
});

describe("Connection protocol errors", () => {
  const fullHello = { "supported-versions": "2.0", "max-frame-size": 16380, capabilities: "" };
  const without = (key: string): Record<string, string | number> => {
    const copy: Record<string, string | number> = { ...fullHello };
    delete copy[key];
    return copy;
  };
  const cases: Array<[string, number, (peer: Peer) => void]> = [
    ["a frame longer than max-frame-size before HELLO", 3, (p) => p.transport.send(new Uint8Array([0, 0, 0x40, 0, 1]))],
    ["a frame longer than the negotiated max-frame-size", 3, (p) => {
      p.client.hello({ maxFrameSize: 256 });
      p.client.notify({ streamId: 1, frameId: 1 }, [message("m", "y".repeat(300))]);
    }],
    ["a NOTIFY before HELLO", 4, (p) => p.transport.send(V5)],
    ["a HELLO with non-zero ids", 4, (p) => {
      p.transport.send(rawFrame(1, { idBytes: new Uint8Array([0, 1]), payload: kvPayload(fullHello) }));
    }],
    ["a HELLO without FIN", 4, (p) => p.transport.send(rawFrame(1, { flags: 0, payload: kvPayload(fullHello) }))],
    ["a second HELLO", 4, (p) => {
      p.client.hello();
      p.client.hello();
    }],
    ["a zero-length frame", 4, (p) => p.transport.send(new Uint8Array([0, 0, 0, 0]))],
    ["a truncated NOTIFY payload", 4, (p) => {
      p.client.hello();
      p.transport.send(rawFrame(3, { idBytes: new Uint8Array([1, 1]), payload: new Uint8Array([10, 0x72]) }));
    }],
    ["a HELLO without supported-versions", 5, (p) => p.transport.send(rawFrame(1, { payload: kvPayload(without("supported-versions")) }))],
    ["a HELLO without max-frame-size", 6, (p) => p.transport.send(rawFrame(1, { payload: kvPayload(without("max-frame-size")) }))],
    ["a HELLO without capabilities", 7, (p) => p.transport.send(rawFrame(1, { payload: kvPayload(without("capabilities")) }))],
    ["a HELLO without a 2.x version", 8, (p) => p.client.hello({ supportedVersions: ["1.0"] })],
    ["a HELLO with max-frame-size below 256", 9, (p) => p.client.hello({ maxFrameSize: 255 })],
    ["a NOTIFY without FIN", 10, (p) => {
      p.client.hello();
      p.transport.send(rawFrame(3, { flags: 0, idBytes: new Uint8Array([1, 1]) }));
    }],
    ["a NOTIFY with ABORT but no FIN", 10, (p) => {
      p.client.hello();
      p.transport.send(rawFrame(3, { flags: 2, idBytes: new Uint8Array([1, 1]) }));
    }],
    ["a type-0 (UNSET) frame", 10, (p) => {
      p.client.hello();
      p.transport.send(rawFrame(0, { idBytes: new Uint8Array([1, 1]) }));
    }],
  ];

  for (const [what, status, provoke] of cases) {
    test(`answers ${what} with AGENT-DISCONNECT ${status} while another connection keeps answering`, async () => {
      const h = harness();
      const other = h.ready();
      const peer = h.connect();
      provoke(peer);
      expectDisconnect(peer, status);
      const before = peer.transport.writes.length;
      peer.transport.send(V5);
      expect(peer.transport.writes.length).toBe(before);

      other.transport.send(V5);
      expect(other.replies().map((r) => r.type)).toEqual(["agent-hello", "ack"]);
      expect(h.events.of("disconnectSent")[0]?.slice(0, 2)).toEqual([2, status]);
      await settle();
      expect(h.events.of("connectionClosed")).toEqual([[2, "protocol-error"]]);
    });
  }

  test("accepts a NOTIFY with FIN|ABORT like a plain one", () => {
    const peer = harness().ready();
    peer.transport.send(rawFrame(3, { flags: 3, idBytes: new Uint8Array([1, 1]), payload: V5.subarray(11) }));
    expect(peer.replies().map((r) => r.type)).toEqual(["agent-hello", "ack"]);
  });

  test("skips a frame of unknown type and answers the next NOTIFY", () => {
    const h = harness();
    const peer = h.ready();
    peer.transport.send(concat(rawFrame(50, { payload: new Uint8Array([1, 2, 3]) }), rawFrame(103), V5));
    expect(peer.replies().map((r) => r.type)).toEqual(["agent-hello", "ack"]);
    expect(peer.transport.ended).toBe(false);
  });
});

describe("Connection NOTIFY handling", () => {
  test("answers V5 with one ACK echoing its ids and the handler's actions", () => {
    const contexts: unknown[] = [];
    const h = harness({
      handler: handlerOf((messages, context) => {
        contexts.push(context);
        return answerFor(messages);
      }),
    });
    const peer = h.ready();
    peer.transport.send(V5);
    const ack = peer.replies()[1];
    expect(ack.type === "ack" && [ack.streamId, ack.frameId, ack.actions]).toEqual([1, 1, answerFor([message("rate-limit")])]);
    expect(contexts).toEqual([{ streamId: 1, frameId: 1, connectionId: 1 }]);
  });

  test("echoes classic ids (stream-id 0, 4242, frame-id 2) and 3.1+ odd stream-ids", () => {
    const peer = harness().ready();
    const ids: Array<[number, number]> = [[0, 1], [0, 2], [4242, 2], [1, 1], [3, 1], [5, 1]];
    for (const [streamId, frameId] of ids) peer.client.notify({ streamId, frameId }, [message("m")]);
    peer.transport.send(V5_CLASSIC);
    const acks = peer.replies().filter((r) => r.type === "ack");
    expect(acks.map((a) => a.type === "ack" && [a.streamId, a.frameId])).toEqual([...ids, [4242, 1]]);
  });

  test("echoes ids of 2^53 and more byte-identically", () => {
    const peer = harness().ready();
    const streamId = 2n ** 53n + 1n;
    const frameId = 2n ** 64n - 1n;
    const notify = notifyFrame({ streamId, frameId }, [message("m")]);
    peer.transport.send(notify);
    const ack = peer.replies()[1];
    expect(ack.type === "ack" && [ack.streamId, ack.frameId]).toEqual([streamId, frameId]);
    const idLength = 9 + 10; // 2^53+1 takes 9 varint bytes, 2^64-1 takes 10
    expect(ack.bytes.subarray(9, 9 + idLength)).toEqual(notify.subarray(9, 9 + idLength));
  });

  test("answers 100 pipelined NOTIFYs resolved in reverse order exactly once each, out of order", async () => {
    const pending: Array<ReturnType<typeof deferred<ReturnType<typeof answerFor>>>> = [];
    const h = harness({
      handler: handlerOf(() => {
        const d = deferred<ReturnType<typeof answerFor>>();
        pending.push(d);
        return d.promise;
      }),
    });
    const peer = h.ready();
    const frames: Uint8Array[] = [];
    for (let i = 0; i < 100; i++) frames.push(notifyFrame({ streamId: 2 * i + 1, frameId: 1 }, [message(`m${i}`)]));
    peer.transport.send(concat(...frames));
    expect(h.agent.inFlight).toBe(100);
    for (let i = 99; i >= 0; i--) {
      pending[i].resolve(answerFor([message(`m${i}`)]));
      if (i % 10 === 0) await settle();
    }
    await peer.client.waitForReplies(101);
    await settle();
    const acks = peer.client.acks();
    expect(acks.length).toBe(100);
    expect(acks.map((a) => a.type === "ack" && a.streamId)).toEqual(
      Array.from({ length: 100 }, (_, k) => 2 * (99 - k) + 1),
    );
    for (const a of acks) {
      if (a.type !== "ack") continue;
      const i = ((a.streamId as number) - 1) / 2;
      expect(a.actions).toEqual(answerFor([message(`m${i}`)]));
    }
    expect(h.agent.inFlight).toBe(0);
  });

  test("sends the synchronous answers of one chunk in a single write", () => {
    const peer = harness().connect();
    const notifies = Array.from({ length: 10 }, (_, i) => notifyFrame({ streamId: i, frameId: 1 }, [message("m")]));
    peer.transport.send(concat(V1, ...notifies));
    expect(peer.transport.writes.length).toBe(1);
    expect(peer.replies().map((r) => r.type)).toEqual(["agent-hello", ...Array(10).fill("ack")]);
  });

  test("sends asynchronous answers resolved in the same tick in a single write", async () => {
    const gate = deferred<void>();
    const peer = harness({
      handler: handlerOf(async (messages) => {
        await gate.promise;
        return answerFor(messages);
      }),
    }).ready();
    for (let i = 0; i < 5; i++) peer.client.notify({ streamId: 2 * i + 1, frameId: 1 }, [message("m")]);
    expect(peer.transport.writes.length).toBe(1);
    gate.resolve();
    await settle();
    expect(peer.transport.writes.length).toBe(2);
    expect(peer.replies().filter((r) => r.type === "ack").length).toBe(5);
  });

  test("answers a throwing handler with its failure actions and keeps the connection", () => {
    let calls = 0;
    const h = harness({
      handler: handlerOf((messages) => {
        if (calls++ === 0) throw new Error("boom");
        return answerFor(messages);
      }),
    });
    const peer = h.ready();
    peer.transport.send(V5);
    peer.transport.send(V5);
    const acks = peer.replies().slice(1);
    expect(acks.map((a) => a.type === "ack" && a.actions)).toEqual([FAILURE_ACTIONS, answerFor([message("rate-limit")])]);
    expect(h.events.of("handlerFailed").map(([id, e]) => [id, (e as Error).message])).toEqual([[1, "boom"]]);
  });

  test("answers a rejecting handler with its failure actions and keeps the connection", async () => {
    let calls = 0;
    const h = harness({
      handler: handlerOf((messages) => (calls++ === 0 ? Promise.reject(new Error("late boom")) : answerFor(messages))),
    });
    const peer = h.ready();
    peer.transport.send(V5);
    await settle();
    peer.transport.send(V5);
    const acks = peer.replies().slice(1);
    expect(acks.map((a) => a.type === "ack" && a.actions)).toEqual([FAILURE_ACTIONS, answerFor([message("rate-limit")])]);
    expect(h.events.of("handlerFailed").length).toBe(1);
    expect(h.agent.inFlight).toBe(0);
  });

  test("falls back to the padding action when failureActions throws too", () => {
    const h = harness({
      handler: handlerOf(
        () => {
          throw new Error("first");
        },
        () => {
          throw new Error("second");
        },
      ),
    });
    const peer = h.ready();
    peer.transport.send(V5);
    const ack = peer.replies()[1];
    expect(ack.type === "ack" && ack.actions).toEqual(PADDING);
    expect(h.events.of("handlerFailed").map(([, e]) => (e as Error).message)).toEqual(["first", "second"]);
  });

  test("sends one ACK for a thenable that calls back twice, and survives one whose then() throws", async () => {
    let n = 0;
    const h = harness({
      handler: handlerOf((messages) => {
        if (n++ === 0) {
          return {
            then(ok: (a: ReturnType<typeof answerFor>) => void, fail: (e: unknown) => void) {
              ok(answerFor(messages));
              ok(answerFor(messages));
              fail(new Error("late"));
            },
          } as PromiseLike<ReturnType<typeof answerFor>>;
        }
        return {
          then() {
            throw new Error("bad thenable");
          },
        } as unknown as PromiseLike<[]>;
      }),
    });
    const peer = h.ready();
    peer.transport.send(concat(V5, V5));
    await settle();
    const acks = peer.client.acks();
    expect(acks.map((a) => a.actions)).toEqual([answerFor([message("rate-limit")]), FAILURE_ACTIONS]);
    expect(h.agent.inFlight).toBe(0);
    expect(h.events.of("handlerFailed").map(([, e]) => (e as Error).message)).toEqual(["bad thenable"]);
  });

  test("treats a handler answer that is not an array as a failure", () => {
    const h = harness({ handler: handlerOf(() => undefined as unknown as []) });
    const peer = h.ready();
    peer.transport.send(V5);
    const ack = peer.replies()[1];
    expect(ack.type === "ack" && ack.actions).toEqual(FAILURE_ACTIONS);
  });

  test("answers an empty action list with the padding unset-var txn._", () => {
    const peer = harness({ handler: handlerOf(() => []) }).ready();
    peer.transport.send(V5);
    const ack = peer.replies()[1];
    expect(ack.type === "ack" && ack.actions).toEqual(PADDING);
  });

  test("answers actions that cannot be encoded with the failure actions", () => {
    const huge = [{ type: "set-var", scope: "txn", name: "x", value: { kind: "string", value: "z".repeat(20000) } }] as const;
    const h = harness({ handler: handlerOf(() => huge) });
    const peer = h.ready();
    peer.transport.send(concat(V5, V5));
    const acks = peer.replies().slice(1);
    expect(acks.map((a) => a.type === "ack" && a.actions)).toEqual([FAILURE_ACTIONS, FAILURE_ACTIONS]);
    expect(h.events.of("handlerFailed").length).toBe(2);
  });

  test("answers an empty NOTIFY by calling the handler with no messages", () => {
    const seen: Array<readonly Message[]> = [];
    const peer = harness({
      handler: handlerOf((messages) => {
        seen.push(messages);
        return [];
      }),
    }).ready();
    peer.transport.send(rawFrame(3, { idBytes: new Uint8Array([7, 1]) }));
    const ack = peer.replies()[1];
    expect(ack.type === "ack" && [ack.streamId, ack.actions]).toEqual([7, PADDING]);
    expect(seen).toEqual([[]]);
  });

  test("drops late answers silently after the peer closed", async () => {
    const d = deferred<[]>();
    const h = harness({ handler: handlerOf(() => d.promise) });
    const peer = h.ready();
    peer.transport.send(V5);
    expect(h.agent.inFlight).toBe(1);
    peer.transport.peerClose(new Error("ECONNRESET"));
    expect(h.agent.inFlight).toBe(0);
    d.resolve([]);
    await settle();
    expect(peer.transport.writes.length).toBe(1);
    expect(h.events.of("handlerFailed")).toEqual([]);
    expect(h.events.of("connectionClosed")).toEqual([[1, "peer-error"]]);
  });
});

describe("Connection HAPROXY-DISCONNECT", () => {
  test("answers V12 with exactly V14 and ends the transport", async () => {
    const h = harness();
    const peer = h.ready();
    peer.transport.send(V12);
    expect(peer.transport.writes.at(-1)).toEqual(V14);
    expect(peer.transport.ended).toBe(true);
    expect(h.events.of("disconnectReceived")).toEqual([[1, 0, "normal"]]);
    await settle();
    expect(h.events.of("connectionClosed")).toEqual([[1, "haproxy-disconnect"]]);
  });

  test("does not wait for in-flight handlers and drops their late ACKs", async () => {
    const d = deferred<[]>();
    const h = harness({ handler: handlerOf(() => d.promise) });
    const peer = h.ready({ closeOnEnd: false });
    peer.transport.send(concat(V5, V12));
    expect(peer.replies().map((r) => r.type)).toEqual(["agent-hello", "agent-disconnect"]);
    d.resolve([]);
    await settle();
    expect(peer.replies().map((r) => r.type)).toEqual(["agent-hello", "agent-disconnect"]);
    expect(h.agent.inFlight).toBe(0);
  });

  test("sends ACKs of NOTIFYs before the DISCONNECT of the same chunk, in one write", () => {
    const peer = harness().ready();
    peer.transport.send(concat(V5, V12));
    expect(peer.transport.writes.length).toBe(2);
    expect(peer.replies().map((r) => r.type)).toEqual(["agent-hello", "ack", "agent-disconnect"]);
  });
});

describe("Connection handshake frames in one chunk", () => {
  test("answers HELLO and NOTIFYs of one chunk together", () => {
    const peer = harness().connect();
    peer.transport.send(concat(helloFrame(), V5));
    expect(peer.transport.writes.length).toBe(1);
  });
});
