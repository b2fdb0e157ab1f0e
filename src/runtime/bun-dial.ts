/**
 * Outbound TCP with `Bun.connect` (dial.ts). Bun's write() does not buffer (engineering-notes
 * B2): the unaccepted rest waits here for `drain`, and later writes queue behind it.
 * @module
 */
import type { OutboundDialer, OutboundSink } from "./dial-types.ts";

interface BunClientSocket {
  write(bytes: Uint8Array): number;
  end(): number;
  terminate(): void;
}

interface Outbound {
  readonly sink: OutboundSink;
  queue: Uint8Array[];
  closed: boolean;
}

interface BunConnectApi {
  connect(options: {
    hostname: string;
    port: number;
    socket: {
      binaryType: "uint8array";
      data(socket: BunClientSocket & { data: Outbound }, chunk: Uint8Array): void;
      drain(socket: BunClientSocket & { data: Outbound }): void;
      close(socket: BunClientSocket & { data: Outbound }, error?: Error): void;
      error(socket: BunClientSocket & { data: Outbound }, error: Error): void;
      connectError?(socket: unknown, error: Error): void;
    };
    data: Outbound;
  }): Promise<BunClientSocket & { data: Outbound }>;
}

function flush(socket: BunClientSocket & { data: Outbound }): void {
  const state = socket.data;
  while (state.queue.length > 0) {
    const head = state.queue[0];
    const written = socket.write(head);
    if (written < 0) return;
    if (written < head.length) {
      state.queue[0] = head.subarray(written);
      return;
    }
    state.queue.shift();
  }
}

function end(state: Outbound, error?: unknown): void {
  if (state.closed) return;
  state.closed = true;
  state.queue = [];
  state.sink.closed(error);
}

/** Dials with Bun.connect (TCP_NODELAY is always on in Bun: engineering-notes B3). */
export const bunDial: OutboundDialer = async (target, sink) => {
  const Bun = (globalThis as unknown as { Bun: BunConnectApi }).Bun;
  const state: Outbound = { sink, queue: [], closed: false };
  const socket = await Bun.connect({
    hostname: target.host,
    port: target.port,
    data: state,
    socket: {
      binaryType: "uint8array",
      data: (s, chunk) => s.data.sink.data(chunk),
      drain: (s) => flush(s),
      close: (s, error) => end(s.data, error),
      error: (s, error) => end(s.data, error),
    },
  });
  return {
    write(bytes) {
      if (state.closed) return;
      if (state.queue.length > 0) {
        state.queue.push(bytes);
        return;
      }
      const written = socket.write(bytes);
      if (written < 0) return void queueMicrotask(() => end(state, new Error("write on a closed socket")));
      if (written < bytes.length) state.queue.push(bytes.subarray(written));
    },
    close() {
      socket.terminate();
      end(state);
    },
  };
};
