/**
 * Structural declarations of the few Bun members the adapters call, so `tsc` checks the Bun
 * adapter without Bun's own types being authoritative (engineering-notes §2.2).
 * @module
 */

/** One accepted Bun socket; `data` holds our per-socket state. */
export interface BunSocket<T> {
  data: T;
  /** Returns the bytes accepted (may be fewer), or a negative number on a closed socket. */
  write(bytes: Uint8Array): number;
  /** FIN after anything Bun still holds; −1 on a closed socket. */
  end(): number;
  /** Present on Bun 1.4.5 (verified by tests/runtime/bun-facts.test.ts). */
  pause?(): void;
  resume?(): void;
  /** RST (SO_LINGER 0). */
  terminate(): void;
  readonly remoteAddress: string;
  readonly remotePort?: number;
}

/** The handler object shared by every socket of a listener. */
export interface BunSocketHandler<T> {
  readonly binaryType: "uint8array";
  open(socket: BunSocket<T>): void;
  data(socket: BunSocket<T>, chunk: Uint8Array): void;
  drain(socket: BunSocket<T>): void;
  close(socket: BunSocket<T>, error?: Error): void;
  error(socket: BunSocket<T>, error: Error): void;
}

/** Options of `Bun.listen`; `reusePort` is applied natively though Bun's public types omit it. */
export type BunListenOptions<T> =
  | { hostname: string; port: number; reusePort?: boolean; socket: BunSocketHandler<T> }
  | { unix: string; socket: BunSocketHandler<T> };

/** What `Bun.listen` returns. */
export interface BunListener {
  readonly port?: number;
  stop(closeActiveConnections?: boolean): void;
}

/** Options of `Bun.serve` that we use. */
export type BunServeOptions =
  | { hostname: string; port: number; reusePort?: boolean; fetch(request: Request): Response | Promise<Response> }
  | { unix: string; fetch(request: Request): Response | Promise<Response> };

/** What `Bun.serve` returns. */
export interface BunServer {
  readonly port?: number;
  stop(closeActiveConnections?: boolean): Promise<void> | void;
}

/** A child started by `Bun.spawn`. */
export interface BunSubprocess {
  readonly pid: number;
  readonly exited: Promise<number>;
  kill(signal?: string | number): void;
}

/** The `Bun` global, reduced to what we call. */
export interface BunApi {
  readonly version: string;
  /** Absolute path of the entry script; "/$bunfs/…" inside a `bun build --compile` binary. */
  readonly main: string;
  listen<T>(options: BunListenOptions<T>): BunListener;
  serve(options: BunServeOptions): BunServer;
  spawn(
    command: readonly string[],
    options: { env: Record<string, string | undefined>; stdio: readonly ["inherit", "inherit", "inherit"] },
  ): BunSubprocess;
}

/** The `Bun` global under our structural type; only call this when running under Bun. */
export function bunGlobal(): BunApi {
  return (globalThis as unknown as { Bun: BunApi }).Bun;
}
