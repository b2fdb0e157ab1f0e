/**
 * The default Dialer: node:net, which Node, Bun and Deno all provide (the app passes the
 * runtime's native one instead; src/runtime/dial.ts).
 * @module
 */
import { connect } from "node:net";
import type { Dialer } from "./dial.ts";

/** Dials with node:net; TCP_NODELAY on, as every script call is a small write awaiting its reply. */
export const nodeDialer: Dialer = (target, sink) =>
  new Promise((resolve, reject) => {
    const socket = connect({ host: target.host, port: target.port, noDelay: true });
    let open = false;
    let closed = false;
    socket.on("connect", () => {
      open = true;
      resolve({ write: (bytes) => void socket.write(bytes), close: () => void socket.destroy() });
    });
    socket.on("data", (chunk: Uint8Array) => sink.data(chunk));
    socket.on("error", (error) => {
      if (!open) reject(error);
      else if (!closed) {
        closed = true;
        sink.closed(error);
      }
    });
    socket.on("close", () => {
      if (!open) return reject(new Error(`connection to ${target.host}:${target.port} closed`));
      if (closed) return;
      closed = true;
      sink.closed();
    });
  });
