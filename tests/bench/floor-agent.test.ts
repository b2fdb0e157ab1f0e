import { afterEach, describe, expect, test } from "bun:test";
import { haproxyHello, notifyTemplate } from "../../bench/load/frames.ts";
import { BUN, freePort, ROOT, waitForPort } from "../../bench/lib/processes.ts";
import { type DecodedFrame, decodeFrame } from "../../src/spop/codec.ts";
import { LENGTH_BYTES, readLength } from "../../src/spop/frame-view.ts";

let running: ReturnType<typeof Bun.spawn> | undefined;
afterEach(() => {
  running?.kill();
  running = undefined;
});

/** Sends HELLO and three NOTIFYs with large, multi-byte ids in one write; returns the decoded replies once four arrived. */
async function exchange(port: number): Promise<DecodedFrame[]> {
  const template = notifyTemplate("check-rate");
  const ids = [{ streamId: 1, frameId: 1 }, { streamId: 300, frameId: 7 }, { streamId: 2 ** 40 + 5, frameId: 70_000 }];
  const out = new Uint8Array(3 * template.maxBytes);
  let end = 0;
  for (const id of ids) end = template.write(out, end, id, Uint8Array.of(192, 0, 2, 10));
  const hello = haproxyHello("3.1", "floor-test");
  const request = new Uint8Array(hello.length + end);
  request.set(hello);
  request.set(out.subarray(0, end), hello.length);

  let received = new Uint8Array(0);
  const frames: DecodedFrame[] = [];
  const { promise: done, resolve } = Promise.withResolvers<void>();
  const socket = await Bun.connect({
    hostname: "127.0.0.1",
    port,
    socket: {
      data(_socket, chunk) {
        const joined = new Uint8Array(received.length + chunk.length);
        joined.set(received);
        joined.set(chunk, received.length);
        received = joined;
        while (received.length >= LENGTH_BYTES && received.length >= LENGTH_BYTES + readLength(received, 0)) {
          const size = LENGTH_BYTES + readLength(received, 0);
          frames.push(decodeFrame(received.subarray(0, size)));
          received = received.slice(size);
        }
        if (frames.length >= 4) resolve();
      },
    },
  });
  socket.write(request);
  await Promise.race([done, Bun.sleep(5000)]);
  socket.end();
  return frames;
}

describe("bench/load/floor-agent.ts", () => {
  for (const mode of ["raw", "library"]) {
    test(`${mode}: answers the HELLO and each NOTIFY with an ACK echoing its ids`, async () => {
      const port = await freePort();
      running = Bun.spawn([BUN, `${ROOT}bench/load/floor-agent.ts`, "--listen", `127.0.0.1:${port}`, "--mode", mode], { stdout: "ignore", stderr: "inherit" });
      expect(await waitForPort(port, 10_000)).toBe(true);
      const frames = await exchange(port);
      expect(frames.map((f) => f.type)).toEqual(["agent-hello", "ack", "ack", "ack"]);
      const acks = frames.slice(1).map((f) => (f.type === "ack" ? [BigInt(f.streamId), BigInt(f.frameId), f.actions.length] : []));
      expect(acks).toEqual([[1n, 1n, 1], [300n, 7n, 1], [2n ** 40n + 5n, 70_000n, 1]]);
    });
  }
});
