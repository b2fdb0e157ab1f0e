/**
 * The Deno adapter: `Deno.listen` connections behind the engine's Transport (HTTP: deno-http.ts).
 * Moves bytes and lifecycle events only; no SPOP knowledge.
 * @module
 */
import type { ConnectionPort, Transport } from "../agent/transport.ts";
import type { ListenAddress } from "../agent/transport.ts";
import type { AcceptHandler, Listener, ListenOptions, RuntimeAdapter } from "./types.ts";
import { type DenoConn, type DenoListener, denoGlobal } from "./deno-api.ts";
import { serveHttp } from "./deno-http.ts";
import { isNormalCloseError, RuntimeAdapterError } from "./errors.ts";
import { describeAddress, listenFailed } from "./listen-address.ts";
import { applySocketMode, clearStaleSocket } from "./unix-path.ts";

// Queued bytes beyond this make write() report congestion: one SPOP frame plus a full ACK batch fit.
const HIGH_WATER = 64 * 1024;
const READ_SIZE = 64 * 1024;
// Small queued writes are merged into one syscall; big ones go alone to avoid a copy.
const COALESCE_MAX = 64 * 1024;
// After our FIN, wait this long for the peer's EOF before closing: close(2) with unread input sends RST.
const LINGER_MS = 2_000;

/** One accepted connection: a read loop and a single-flight write pump. */
class DenoConnection implements Transport {
  readonly remoteAddress: string;
  port: ConnectionPort | undefined;
  #conn: DenoConn;
  #queue: Uint8Array[] = [];
  #queued = 0;
  #writing = false;
  #congested = false;
  #paused = false;
  #held: Uint8Array | undefined;
  #wake: (() => void) | undefined;
  #ending = false;
  #closed = false;
  #linger: ReturnType<typeof setTimeout> | undefined;

  constructor(conn: DenoConn) {
    this.#conn = conn;
    const remote = conn.remoteAddr;
    this.remoteAddress = remote.transport === "tcp" ? `${remote.hostname}:${remote.port}` : "unix";
  }

  write(bytes: Uint8Array): boolean {
    if (this.#closed || this.#ending) return false;
    this.#queue.push(bytes);
    this.#queued += bytes.length;
    if (!this.#writing) void this.#pump();
    if (this.#queued <= HIGH_WATER) return true;
    this.#congested = true;
    return false;
  }

  end(): void {
    if (this.#ending || this.#closed) return;
    this.#ending = true;
    if (!this.#writing) void this.#finish();
  }

  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    this.#paused = false;
    this.#wakeReader();
  }

  /** Reads until EOF; a read resolved after pause() is held until resume() so pause is exact. */
  async readLoop(): Promise<void> {
    const buffer = new Uint8Array(READ_SIZE);
    try {
      while (!this.#closed) {
        if (this.#paused && !this.#ending) await new Promise<void>((wake) => (this.#wake = wake));
        if (this.#closed) return;
        if (this.#held !== undefined && !this.#paused) {
          const held = this.#held;
          this.#held = undefined;
          this.port?.receive(held);
          continue;
        }
        const count = await this.#conn.read(buffer);
        if (count === null) break;
        if (count === 0 || this.#ending) continue;
        // The buffer is reused for the next read; the engine owns what it receives, so copy out.
        const chunk = buffer.slice(0, count);
        if (this.#paused) this.#held = chunk;
        else this.port?.receive(chunk);
      }
      this.#shutdown(undefined);
    } catch (error) {
      this.#shutdown(error);
    }
  }

  async #pump(): Promise<void> {
    this.#writing = true;
    try {
      while (this.#queue.length > 0 && !this.#closed) {
        const batch = this.#queue.length > 1 && this.#queued <= COALESCE_MAX ? [concat(this.#queue)] : this.#queue;
        this.#queue = [];
        for (const chunk of batch) {
          for (let offset = 0; offset < chunk.length;) offset += await this.#conn.write(chunk.subarray(offset));
          this.#queued -= chunk.length;
        }
      }
    } catch (error) {
      this.#shutdown(error);
      return;
    } finally {
      this.#writing = false;
    }
    if (this.#closed) return;
    if (this.#congested) {
      this.#congested = false;
      this.port?.drained();
    }
    if (this.#ending && !this.#writing) await this.#finish();
  }

  async #finish(): Promise<void> {
    try {
      await this.#conn.closeWrite();
    } catch (error) {
      this.#shutdown(error);
      return;
    }
    // The read loop discards input while ending and closes on the peer's EOF.
    this.#linger = setTimeout(() => this.#shutdown(undefined), LINGER_MS);
    this.#wakeReader();
  }

  #wakeReader(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  #shutdown(error: unknown): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#linger);
    this.#queue = [];
    this.#held = undefined;
    try {
      this.#conn.close();
    } catch (closeError) {
      if (!isNormalCloseError(closeError)) error ??= closeError;
    }
    this.#wakeReader();
    this.port?.closed(error === undefined || isNormalCloseError(error) ? undefined : error);
  }
}

function concat(chunks: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const chunk of chunks) total += chunk.length;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

async function acceptLoop(listener: DenoListener, accept: AcceptHandler, isClosed: () => boolean, options: ListenOptions): Promise<void> {
  const errors = denoGlobal().errors;
  while (!isClosed()) {
    let conn: DenoConn;
    try {
      conn = await listener.accept();
    } catch (error) {
      if (isClosed() || error instanceof errors.BadResource) return;
      if (error instanceof errors.ConnectionAborted || error instanceof errors.Interrupted) continue;
      // EMFILE and the like: report, back off, keep serving (Node and Go do the same).
      if (options.onAcceptError === undefined) console.error(`spoa-gcra: accept failed: ${String(error)}`);
      else options.onAcceptError(error);
      await new Promise((resolve) => setTimeout(resolve, 100));
      continue;
    }
    // Deno sets no TCP_NODELAY on accepted sockets (engineering-notes D4); unix conns lack the method.
    conn.setNoDelay?.(true);
    const connection = new DenoConnection(conn);
    connection.port = accept(connection);
    void connection.readLoop();
  }
}

function bind(address: ListenAddress): DenoListener {
  const Deno = denoGlobal();
  if (address.kind === "unix") return Deno.listen({ transport: "unix", path: address.path });
  if (!address.reusePort) return Deno.listen({ hostname: address.hostname, port: address.port });
  // Without --unstable-net Deno exits the whole process on reusePort (engineering-notes D5);
  // listenDatagram exists exactly when that flag is on.
  if (typeof Deno.listenDatagram !== "function") {
    throw new RuntimeAdapterError(
      "reuse-port-unavailable",
      "Cannot listen with reusePort under Deno without --unstable-net: run `deno run --unstable-net …` or drop reusePort",
    );
  }
  return Deno.listen({ hostname: address.hostname, port: address.port, reusePort: true });
}

async function listenSpop(address: ListenAddress, accept: AcceptHandler, options: ListenOptions = {}): Promise<Listener> {
  if (address.kind === "unix") clearStaleSocket(address.path);
  let listener: DenoListener;
  try {
    listener = bind(address);
  } catch (cause) {
    throw cause instanceof RuntimeAdapterError ? cause : listenFailed(address, cause);
  }
  if (address.kind === "unix") applySocketMode(address.path, address.mode);
  const port = listener.addr.transport === "tcp" ? listener.addr.port : 0;
  let closed = false;
  void acceptLoop(listener, accept, () => closed, options);
  return {
    address: describeAddress(address, port),
    port,
    close: async () => {
      closed = true;
      listener.close();
      if (address.kind === "unix") clearStaleSocket(address.path);
    },
  };
}

/** The Deno runtime adapter. */
export const denoAdapter: RuntimeAdapter = { name: "deno", listenSpop, serveHttp };
