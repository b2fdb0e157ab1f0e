// A minimal SPOA for testing the deploy/haproxy configs against a real HAProxy: it speaks the
// handshake with the project's codec and answers each NOTIFY with the actions `decide` returns.
// It is not the product's engine (that one is tested elsewhere); it keeps the config test
// independent of the agent's state of completion.
import { createServer, type Server, type Socket } from "node:net";
import { decodeFrame, encodeFrame } from "../../src/spop/codec.ts";
import type { Action, Message } from "../../src/spop/types.ts";

/** A running stub. */
export interface StubSpoa {
  readonly port: number;
  /** Every NOTIFY message received so far. */
  readonly messages: Message[];
  /** Stop answering NOTIFYs (HAProxy then runs into `timeout processing`). */
  mute(muted: boolean): void;
  close(): Promise<void>;
}

/** Starts the stub on 127.0.0.1 with a free port. */
export async function startStubSpoa(decide: (messages: readonly Message[]) => Action[]): Promise<StubSpoa> {
  const messages: Message[] = [];
  const sockets = new Set<Socket>();
  let muted = false;
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    let pending = Buffer.alloc(0);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    socket.on("data", (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 4) {
        const length = pending.readUInt32BE(0);
        if (pending.length < 4 + length) break;
        const frame = decodeFrame(new Uint8Array(pending.subarray(0, 4 + length)));
        pending = pending.subarray(4 + length);
        switch (frame.type) {
          case "haproxy-hello": {
            const pipelining = frame.hello.capabilities.includes("pipelining");
            const reply = { version: "2.0", maxFrameSize: Math.min(16380, frame.hello.maxFrameSize), capabilities: pipelining ? ["pipelining"] : [] };
            socket.write(encodeFrame({ type: "agent-hello", hello: reply }));
            if (frame.hello.healthcheck) socket.end();
            break;
          }
          case "haproxy-disconnect":
            socket.end(encodeFrame({ type: "agent-disconnect", status: 0, message: "normal" }));
            break;
          case "notify":
            messages.push(...frame.messages);
            if (!muted) socket.write(encodeFrame({ type: "ack", streamId: frame.streamId, frameId: frame.frameId, actions: decide(frame.messages) }));
            break;
          default:
            break;
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("stub SPOA has no TCP address");
  return {
    port: address.port,
    messages,
    mute(value) {
      muted = value;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
