/**
 * A key flood through SPOP: `check-rate` NOTIFYs whose `ip_src` is a fresh IPv6 /64 each time,
 * the way a client rotating addresses inside a big allocation looks to the agent. Every NOTIFY
 * is the same pre-encoded frame with only the address bytes patched, and ACKs are counted by
 * their length prefix, so the client costs little CPU next to the agent it measures.
 * @module
 */
import { connect, type Socket } from "node:net";
import { helloFrame, notifyFrame } from "../../src/spop/client.ts";

/** Options of a flood; every field but `port` has a default. */
export interface FloodOptions {
  readonly port: number;
  /** Distinct /64 prefixes to send, one NOTIFY each (default 1,000,000). */
  readonly total?: number;
  readonly connections?: number;
  /** NOTIFYs kept unanswered per connection (default 64). */
  readonly window?: number;
  /** First prefix number, so two floods can use disjoint keys (default 0). */
  readonly offset?: number;
  /** Gives up (resolves with what was done) after this long (default 120 s). */
  readonly timeoutMs?: number;
}

/** What a flood did. */
export interface FloodResult {
  readonly sent: number;
  readonly acked: number;
  /** Connections that ended before the flood did (0 when the agent kept serving). */
  readonly closedEarly: number;
  readonly timedOut: boolean;
}

const MARK = [0xde, 0xad, 0xbe, 0xef, 0xfe, 0xed, 0xfa, 0xce];

/** The NOTIFY template and the offset of the 8 prefix bytes to patch. */
function template(): { frame: Uint8Array; at: number } {
  const address = new Uint8Array(16);
  address.set([0x20, 0x01, 0x0d, 0xb8]);
  address.set(MARK, 4);
  address[15] = 1;
  const frame = notifyFrame({ streamId: 1, frameId: 1 }, [{
    name: "check-rate",
    args: [
      { name: "ip_fwd", kind: "null" },
      { name: "ip_xff", kind: "null" },
      { name: "ip_src", kind: "ipv6", value: address },
    ],
  }]);
  for (let i = 0; i + MARK.length <= frame.length; i++) {
    if (MARK.every((b, k) => frame[i + k] === b)) return { frame, at: i - 4 };
  }
  throw new Error("ipv6-flood: address not found in the encoded NOTIFY");
}

/** Counts whole frames in a byte stream by their 4-byte length prefix (spop-protocol.md §3). */
class FrameCounter {
  #pending = new Uint8Array(0);
  count(chunk: Uint8Array): number {
    const bytes = this.#pending.length === 0 ? chunk : concat(this.#pending, chunk);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let at = 0;
    let frames = 0;
    while (at + 4 <= bytes.length) {
      const length = view.getUint32(at);
      if (at + 4 + length > bytes.length) break;
      at += 4 + length;
      frames++;
    }
    this.#pending = bytes.slice(at);
    return frames;
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/**
 * Sends `total` NOTIFYs, each for a new /64 (2001:nnnn:nnnn:nnnn::/64 numbered from `offset`), over
 * `connections` pipelined connections; resolves when every one is answered, or at the timeout.
 */
export async function floodIpv6(options: FloodOptions): Promise<FloodResult> {
  const total = options.total ?? 1_000_000;
  const window = options.window ?? 64;
  const offset = options.offset ?? 0;
  const { frame, at } = template();
  let next = 0;
  let sent = 0;
  let acked = 0;
  let closedEarly = 0;
  let finish: (timedOut: boolean) => void = () => {};
  const done = new Promise<boolean>((resolve) => (finish = resolve));

  const batch = (count: number): Uint8Array => {
    const out = new Uint8Array(frame.length * count);
    for (let k = 0; k < count; k++) {
      out.set(frame, k * frame.length);
      // Prefix number n → address bytes 2..7, the /64 after 2001: (2001:nnnn:nnnn:nnnn::1).
      const n = offset + next++;
      const base = k * frame.length + at;
      out[base + 2] = Math.floor(n / 2 ** 40) & 0xff;
      out[base + 3] = Math.floor(n / 2 ** 32) & 0xff;
      out[base + 4] = (n >>> 24) & 0xff;
      out[base + 5] = (n >>> 16) & 0xff;
      out[base + 6] = (n >>> 8) & 0xff;
      out[base + 7] = n & 0xff;
      out.fill(0, base + 8, base + 15);
    }
    sent += count;
    return out;
  };

  const start = (socket: Socket) => {
    const counter = new FrameCounter();
    let hello = false;
    let inFlight = 0;
    const refill = () => {
      const room = Math.min(window - inFlight, total - next);
      if (room <= 0) return;
      inFlight += room;
      socket.write(batch(room));
    };
    socket.on("data", (chunk: Buffer) => {
      let frames = counter.count(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length));
      if (!hello && frames > 0) {
        hello = true;
        frames--;
        refill();
      }
      acked += frames;
      inFlight -= frames;
      if (acked >= total) finish(false);
      else if (frames > 0) refill();
    });
    socket.on("close", () => {
      if (acked < total) closedEarly++;
      if (--open === 0) finish(false);
    });
    socket.write(helloFrame());
  };

  const sockets: Socket[] = [];
  let open = options.connections ?? 4;
  for (let i = 0; i < open; i++) {
    const socket = connect({ host: "127.0.0.1", port: options.port, noDelay: true });
    // A reset (the agent killed) ends the connection; the result counts it, nothing throws.
    socket.on("error", () => {});
    socket.once("connect", () => start(socket));
    sockets.push(socket);
  }
  const timer = setTimeout(() => finish(true), options.timeoutMs ?? 120_000);
  const timedOut = await done;
  clearTimeout(timer);
  for (const socket of sockets) socket.destroy();
  return { sent, acked, closedEarly, timedOut };
}
