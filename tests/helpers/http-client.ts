// A raw HTTP/1.1 client over node:net, so a test can choose the source address (127.0.0.2 is
// a different client from 127.0.0.1 to HAProxy's `src`) and read headers exactly as sent.
import { connect } from "node:net";

/** What a test sends. */
export interface HttpRequest {
  readonly port: number;
  readonly path?: string;
  readonly method?: string;
  readonly localAddress?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

/** What came back: status and lower-cased headers. */
export interface HttpResponse {
  readonly status: number;
  readonly headers: ReadonlyMap<string, string>;
  readonly body: string;
}

/** Sends one request on a fresh connection and reads the whole response (bounded by `timeoutMs`). */
export function httpRequest(request: HttpRequest, timeoutMs = 5_000): Promise<HttpResponse> {
  return new Promise((resolveResponse, reject) => {
    const socket = connect({ host: "127.0.0.1", port: request.port, localAddress: request.localAddress });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`HTTP request to port ${request.port} timed out`));
    }, timeoutMs);
    socket.on("connect", () => {
      const lines = [`${request.method ?? "GET"} ${request.path ?? "/"} HTTP/1.1`, "Host: test.local", "Connection: close"];
      for (const [name, value] of Object.entries(request.headers ?? {})) lines.push(`${name}: ${value}`);
      socket.write(lines.join("\r\n") + "\r\n\r\n");
    });
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.on("close", () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString("latin1");
      const [head, ...rest] = text.split("\r\n\r\n");
      const [statusLine, ...headerLines] = head.split("\r\n");
      const status = Number(statusLine.split(" ")[1]);
      if (!Number.isInteger(status)) return reject(new Error(`bad HTTP response: ${JSON.stringify(text.slice(0, 200))}`));
      const headers = new Map<string, string>();
      for (const line of headerLines) {
        const colon = line.indexOf(":");
        if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
      }
      resolveResponse({ status, headers, body: rest.join("\r\n\r\n") });
    });
  });
}
