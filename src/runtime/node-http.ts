/**
 * HTTP for /metrics, /healthz, /readyz under Node.js: `node:http` bridged to the fetch-style
 * handler the other runtimes serve natively.
 * @module
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { ListenAddress } from "../agent/transport.ts";
import type { HttpHandler, Listener } from "./types.ts";
import { bind, listenerOf } from "./node-listen.ts";

async function toRequest(incoming: IncomingMessage): Promise<Request> {
  const headers = new Headers();
  for (const [name, value] of Object.entries(incoming.headers)) {
    for (const item of Array.isArray(value) ? value : [value ?? ""]) headers.append(name, item);
  }
  const method = incoming.method ?? "GET";
  let body: ArrayBuffer | undefined;
  if (method !== "GET" && method !== "HEAD") {
    const chunks: Buffer[] = [];
    for await (const chunk of incoming) chunks.push(chunk as Buffer);
    const joined = Buffer.concat(chunks);
    body = joined.buffer.slice(joined.byteOffset, joined.byteOffset + joined.byteLength) as ArrayBuffer;
  }
  // The handler routes on the path; the authority is fixed so a bad Host header cannot throw here.
  return new Request(new URL(incoming.url ?? "/", "http://localhost"), { method, headers, body });
}

async function answer(handler: HttpHandler, incoming: IncomingMessage, outgoing: ServerResponse): Promise<void> {
  try {
    const response = await handler(await toRequest(incoming));
    const headers: Record<string, string> = {};
    response.headers.forEach((value, name) => (headers[name] = value));
    outgoing.writeHead(response.status, headers);
    outgoing.end(Buffer.from(await response.arrayBuffer()));
  } catch (error) {
    if (!outgoing.headersSent) outgoing.writeHead(500, { "content-type": "text/plain" });
    outgoing.end(`internal error: ${String(error)}\n`);
  }
}

/** Serves `handler` on `address`; the Listener reports the real port. */
export async function serveHttp(address: ListenAddress, handler: HttpHandler): Promise<Listener> {
  const server = createServer((incoming, outgoing) => void answer(handler, incoming, outgoing));
  await bind(server, address);
  return listenerOf(server, address, () => {
    server.close();
    // Idle keep-alive sockets would otherwise keep a stopping process alive.
    server.closeIdleConnections();
  });
}
