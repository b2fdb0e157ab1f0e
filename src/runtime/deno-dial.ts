/**
 * Outbound TCP with `Deno.connect` (dial.ts): a read loop, and a single-flight write pump since
 * `conn.write` may take part of a buffer (engineering-notes D3). Deno sets no TCP_NODELAY by
 * itself (D4): we do.
 * @module
 */
import type { OutboundDialer } from "./dial-types.ts";

interface DenoClientConn {
  read(buffer: Uint8Array): Promise<number | null>;
  write(bytes: Uint8Array): Promise<number>;
  close(): void;
  setNoDelay?(noDelay?: boolean): void;
}

const READ_SIZE = 64 * 1024;

/** Dials with Deno.connect. */
export const denoDial: OutboundDialer = async (target, sink) => {
  const Deno = (globalThis as unknown as { Deno: { connect(o: { hostname: string; port: number }): Promise<DenoClientConn> } }).Deno;
  const conn = await Deno.connect({ hostname: target.host, port: target.port });
  conn.setNoDelay?.(true);
  let closed = false;
  const finish = (error?: unknown) => {
    if (closed) return;
    closed = true;
    try {
      conn.close();
    } catch {
      // already closed by the runtime: nothing left to release
    }
    sink.closed(error);
  };
  void (async () => {
    const buffer = new Uint8Array(READ_SIZE);
    try {
      while (!closed) {
        const n = await conn.read(buffer);
        if (n === null) return finish();
        // The buffer is reused: the sink owns what it gets.
        if (n > 0) sink.data(buffer.slice(0, n));
      }
    } catch (error) {
      finish(error);
    }
  })();
  const queue: Uint8Array[] = [];
  let writing = false;
  const pump = async () => {
    writing = true;
    try {
      while (queue.length > 0 && !closed) {
        const head = queue[0];
        const n = await conn.write(head);
        if (n < head.length) queue[0] = head.subarray(n);
        else queue.shift();
      }
    } catch (error) {
      finish(error);
    } finally {
      writing = false;
    }
  };
  return {
    write(bytes) {
      if (closed) return;
      queue.push(bytes);
      if (!writing) void pump();
    },
    close: () => finish(),
  };
};
