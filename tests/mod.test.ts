// The library face: mod.ts's examples run as written, through a real engine and store.
import { describe, expect, test } from "bun:test";
import { Agent, decodeFrame, encodeFrame, MemoryStore, type NotifyHandler, type Transport } from "../mod.ts";

describe("mod.ts", () => {
  test("the Agent example answers a HELLO and a NOTIFY with the handler's set-var", () => {
    const handler: NotifyHandler = {
      handle: () => [{ type: "set-var", scope: "txn", name: "seen", value: { kind: "bool", value: true } }],
      failureActions: () => [],
    };
    const timers = { schedule: (f: () => void, ms: number) => setTimeout(f, ms), cancel: (h: unknown) => clearTimeout(h as number) };
    const agent = new Agent({ handler, timers });
    const written: Uint8Array[] = [];
    const transport: Transport = { write: (b) => (written.push(b), true), end() {}, pause() {}, resume() {}, remoteAddress: "test" };
    const port = agent.accept(transport);
    port.receive(encodeFrame({
      type: "haproxy-hello",
      hello: { supportedVersions: ["2.0"], maxFrameSize: 16380, capabilities: ["pipelining"] },
    }));
    port.receive(encodeFrame({ type: "notify", streamId: 1, frameId: 1, messages: [{ name: "m", args: [] }] }));
    const bytes = Buffer.concat(written);
    const helloLength = bytes.readUInt32BE(0) + 4;
    expect(decodeFrame(bytes.subarray(0, helloLength))).toMatchObject({ type: "agent-hello", hello: { version: "2.0", capabilities: ["pipelining"] } });
    expect(decodeFrame(bytes.subarray(helloLength))).toEqual({
      type: "ack",
      streamId: 1,
      frameId: 1,
      actions: [{ type: "set-var", scope: "txn", name: "seen", value: { kind: "bool", value: true } }],
    });
    port.closed();
  });

  test("the MemoryStore example admits the burst synchronously, then denies", () => {
    const store = new MemoryStore({ clock: { nowUs: () => 1_000_000_000 } });
    const check = { key: "rl:{203.0.113.7}:api", params: { emissionIntervalUs: 1_000_000, burstToleranceUs: 4_000_000 }, cost: 1, shadow: false };
    const allowed = Array.from({ length: 6 }, () => store.check([check])).map((d) => (d as { allowed: boolean }).allowed);
    expect(allowed).toEqual([true, true, true, true, true, false]);
  });
});
