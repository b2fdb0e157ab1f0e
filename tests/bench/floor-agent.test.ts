import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { haproxyHello, notifyTemplate } from "../../bench/load/frames.ts";
import { BUN, freePort, ROOT, waitForPort } from "../../bench/lib/processes.ts";
import { type DecodedFrame, decodeFrame } from "../../src/spop/codec.ts";
import { LENGTH_BYTES, readLength } from "../../src/spop/frame-view.ts";
import type { Action } from "../../src/spop/types.ts";

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

/** Starts `command` (which listens on `port`), runs the exchange and checks every reply. */
async function expectFloorAnswers(command: string[], port: number): Promise<void> {
  running = Bun.spawn(command, { stdout: "ignore", stderr: "inherit" });
  expect(await waitForPort(port, 10_000)).toBe(true);
  const frames = await exchange(port);
  expect(frames.map((f) => f.type)).toEqual(["agent-hello", "ack", "ack", "ack"]);
  const hello = frames[0];
  expect(hello.type === "agent-hello" && hello.hello).toEqual({ version: "2.0", maxFrameSize: 16380, capabilities: ["pipelining"] });
  const acks = frames.slice(1).map((f) => (f.type === "ack" ? [BigInt(f.streamId), BigInt(f.frameId), f.actions] : []));
  const scoreZero: Action[] = [{ type: "set-var", scope: "sess", name: "ip_score", value: { kind: "int32", value: 0 } }];
  expect(acks).toEqual([[1n, 1n, scoreZero], [300n, 7n, scoreZero], [2n ** 40n + 5n, 70_000n, scoreZero]]);
}

describe("bench/load/floor-agent.ts", () => {
  for (const mode of ["raw", "library"]) {
    test(`${mode}: answers the HELLO and each NOTIFY with an ACK echoing its ids`, async () => {
      const port = await freePort();
      await expectFloorAnswers([BUN, `${ROOT}bench/load/floor-agent.ts`, "--listen", `127.0.0.1:${port}`, "--mode", mode], port);
    });
  }
});

describe("bench/load/floor.c", () => {
  test("builds with the machine's C compiler and answers like the TypeScript floor", async () => {
    const dir = mkdtempSync(join(tmpdir(), "spoa-floor-"));
    try {
      const binary = join(dir, "spoa-floor");
      const build = Bun.spawnSync(["cc", "-O2", "-Wall", "-Werror", "-o", binary, `${ROOT}bench/load/floor.c`], { stderr: "pipe" });
      expect(build.stderr.toString()).toBe("");
      expect(build.exitCode).toBe(0);
      const port = await freePort();
      await expectFloorAnswers([binary, String(port)], port);
    } finally {
      running?.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
