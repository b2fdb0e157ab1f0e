/**
 * The cost floor under the agent: an SPOE agent that answers every NOTIFY with one constant
 * set-var and nothing else, so `bench/load/main.ts --agent-pid` against it measures what the
 * runtime and the kernel charge per decision (wake-up, read, write) with no decoding, limiter
 * or ACK building. Two flavours, run under Bun:
 *
 *   bun bench/load/floor-agent.ts --listen 127.0.0.1:PORT --mode raw       # Bun.listen, header-only parsing
 *   bun bench/load/floor-agent.ts --listen 127.0.0.1:PORT --mode library   # mod.ts Agent + a constant handler
 *
 * `bun run bench/load/cost.ts --floor` runs the library flavour beside the agent.
 * @module
 */
import { parseArgs } from "node:util";
import { Agent, decodeFrame, encodeFrame, FrameType, type NotifyHandler, parseListenAddress, setVar } from "../../mod.ts";
import { adapter, timers } from "../../exports/bun.ts";
import { scanVarint } from "./frames.ts";

const { values } = parseArgs({ options: { listen: { type: "string" }, mode: { type: "string", default: "raw" } } });
const address = parseListenAddress(values.listen ?? "127.0.0.1:12345");
if (address === undefined || address.kind !== "tcp") throw new Error("--listen must be host:port");

const FIN = 1;

/** ACK payload (one set-var sess.ip_score 0) after the ids: an encoded ACK with ids 0/0 minus its 11-byte head. */
const ACK_ACTIONS = encodeFrame({ type: "ack", streamId: 0, frameId: 0, actions: [setVar("sess", "ip_score", 0)] }).subarray(11);

const OUT = new Uint8Array(1 << 20);

/** Answers every complete frame of `buf` into OUT; returns the bytes consumed and the reply length. */
function answer(buf: Uint8Array, close: () => void): { used: number; length: number } {
  let at = 0;
  let o = 0;
  const put = (bytes: Uint8Array): void => {
    OUT.set(bytes, o);
    o += bytes.length;
  };
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  while (buf.length - at >= 4) {
    const length = view.getUint32(at);
    if (buf.length - at - 4 < length) break;
    const frame = buf.subarray(at, at + 4 + length);
    const type = frame[4];
    if (type === FrameType.NOTIFY) {
      const ids = frame.subarray(9, scanVarint(frame, scanVarint(frame, 9, frame.length), frame.length));
      const bodyLength = 5 + ids.length + ACK_ACTIONS.length;
      OUT[o] = bodyLength >>> 24;
      OUT[o + 1] = (bodyLength >>> 16) & 255;
      OUT[o + 2] = (bodyLength >>> 8) & 255;
      OUT[o + 3] = bodyLength & 255;
      OUT[o + 4] = FrameType.ACK;
      OUT[o + 5] = OUT[o + 6] = OUT[o + 7] = 0;
      OUT[o + 8] = FIN;
      o += 9;
      put(ids);
      put(ACK_ACTIONS);
    } else if (type === FrameType.HAPROXY_HELLO) {
      const hello = decodeFrame(frame);
      const offer = hello.type === "haproxy-hello" ? hello.hello.maxFrameSize : 16380;
      put(encodeFrame({ type: "agent-hello", hello: { version: "2.0", maxFrameSize: Math.min(offer, 16380), capabilities: ["pipelining"] } }));
    } else if (type === FrameType.HAPROXY_DISCONNECT) {
      put(encodeFrame({ type: "agent-disconnect", status: 0, message: "normal" }));
      close();
    }
    at += 4 + length;
  }
  return { used: at, length: o };
}

function listenRaw(hostname: string, port: number): void {
  const pending = new WeakMap<object, Uint8Array>();
  Bun.listen({
    hostname,
    port,
    socket: {
      data(socket, chunk) {
        const held = pending.get(socket);
        let buf: Uint8Array = chunk;
        if (held !== undefined) {
          buf = new Uint8Array(held.length + chunk.length);
          buf.set(held);
          buf.set(chunk, held.length);
        }
        let closing = false;
        const { used, length } = answer(buf, () => (closing = true));
        if (used < buf.length) pending.set(socket, buf.slice(used));
        else pending.delete(socket);
        // OUT is reused: Bun gets a copy. Replies are a few KiB at most, far below the loopback
        // socket buffer, so a short write does not happen here.
        if (length > 0) socket.write(OUT.slice(0, length));
        if (closing) socket.end();
      },
    },
  });
}

if (values.mode === "raw") {
  listenRaw(address.hostname, address.port);
} else if (values.mode === "library") {
  const constant = [setVar("sess", "ip_score", 0)];
  const handler: NotifyHandler = { handle: () => constant, failureActions: () => constant };
  const agent = new Agent({ handler, timers });
  await adapter.listenSpop(address, (transport) => agent.accept(transport));
} else {
  throw new Error("--mode must be raw or library");
}
console.log(`floor agent (${values.mode}) listening on ${values.listen}`);
