// The recording/echo ConnectionPort that tests/contract/transport-suite.ts drives over TCP, and,
// run as a script under deno, a server that puts it behind the Deno adapter and prints its port.
// Runtime-neutral on purpose: the Bun contract test imports the same port in-process.
import type { ConnectionPort, Transport } from "../../src/agent/transport.ts";
import type { AcceptHandler } from "../../src/runtime/types.ts";

/** What the port saw, across all connections; served as JSON by mode "S". */
export interface EchoStats {
  opened: number;
  closed: number;
  closeErrors: string[];
  receivedWhilePaused: number;
}

/** Size of the big write of modes "B" and "F". */
export const BIG = 4 * 1024 * 1024;
/** Size of the write queued behind the big one in mode "B". */
export const TAIL = 64 * 1024;
/** Frames written at once in mode "W". */
export const FRAMES = 2000;

/** Byte `i` of the pattern stream; 251 is prime so a misplaced 4 KiB block shows. */
export function patternByte(i: number): number {
  return i % 251;
}

/** `length` pattern bytes starting at stream offset `start`. */
export function pattern(start: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = patternByte(start + i);
  return out;
}

/** Frame `seq` of mode "W": u32 seq, u32 length, then `length` bytes equal to seq & 0xff. */
export function frame(seq: number): Uint8Array {
  const length = 1 + ((seq * 7919) % 20000);
  const out = new Uint8Array(8 + length).fill(seq & 0xff);
  const view = new DataView(out.buffer);
  view.setUint32(0, seq);
  view.setUint32(4, length);
  return out;
}

const text = (value: string) => new TextEncoder().encode(value);

/**
 * The first byte a client sends picks the mode: E echo, B big write + trailer after drained(),
 * F big write then end(), W many frames then end(), P pause/resume probe, S stats, X end now,
 * Q pause then end (closed() must still come once the peer closes).
 */
export function createEchoServer(): { stats: EchoStats; accept: AcceptHandler } {
  const stats: EchoStats = { opened: 0, closed: 0, closeErrors: [], receivedWhilePaused: 0 };
  const accept = (transport: Transport): ConnectionPort => {
    stats.opened++;
    let mode = 0;
    let paused = false;
    let pausedBytes = 0;
    let bigResults = "";
    let drainedCalls = 0;
    const start = (chunk: Uint8Array) => {
      mode = chunk[0];
      const rest = chunk.subarray(1);
      switch (String.fromCharCode(mode)) {
        case "E":
          if (rest.length > 0) transport.write(rest);
          return;
        case "B": {
          const first = transport.write(pattern(0, BIG));
          const second = transport.write(pattern(BIG, TAIL));
          bigResults = `r1=${first} r2=${second}`;
          return;
        }
        case "F":
          transport.write(pattern(0, BIG));
          transport.end();
          return;
        case "W":
          for (let seq = 0; seq < FRAMES; seq++) transport.write(frame(seq));
          transport.end();
          return;
        case "P":
          paused = true;
          transport.pause();
          transport.write(text("P\n"));
          setTimeout(() => {
            paused = false;
            transport.write(text(`R${pausedBytes}\n`));
            mode = "E".charCodeAt(0);
            transport.resume();
          }, 300);
          return;
        case "S":
          transport.write(text(`${JSON.stringify({ ...stats, remote: transport.remoteAddress })}\n`));
          transport.end();
          return;
        case "X":
          transport.end();
          return;
        case "Q":
          transport.pause();
          transport.end();
          return;
      }
    };
    return {
      receive(chunk) {
        if (paused) {
          pausedBytes += chunk.length;
          stats.receivedWhilePaused += chunk.length;
        }
        if (mode === 0) start(chunk);
        else if (mode === "E".charCodeAt(0)) transport.write(chunk);
      },
      drained() {
        drainedCalls++;
        if (mode === "B".charCodeAt(0) && drainedCalls === 1) {
          transport.write(text(`|${bigResults} drained|`));
          transport.end();
        }
      },
      closed(error) {
        stats.closed++;
        if (error !== undefined) stats.closeErrors.push(String(error));
      },
    };
  };
  return { stats, accept };
}

if (import.meta.main) {
  const { denoAdapter } = await import("../../src/runtime/deno.ts");
  const { accept } = createEchoServer();
  const listener = await denoAdapter.listenSpop({ kind: "tcp", hostname: "127.0.0.1", port: 0 }, accept);
  console.log(`PORT ${listener.port}`);
}
