/**
 * Structural declarations of the few Deno members the adapters call, so `tsc` checks the Deno
 * adapter without Deno's own types (engineering-notes §2.2).
 * @module
 */

/** `Deno.NetAddr` / `Deno.UnixAddr`. */
export type DenoAddr =
  | { readonly transport: "tcp" | "udp"; readonly hostname: string; readonly port: number }
  | { readonly transport: "unix" | "unixpacket"; readonly path: string };

/** An accepted connection (`Deno.TcpConn` or `Deno.UnixConn`). */
export interface DenoConn {
  readonly remoteAddr: DenoAddr;
  /** Bytes read, or null at EOF; 0 is not EOF. */
  read(buffer: Uint8Array): Promise<number | null>;
  /** May write fewer bytes than given. */
  write(bytes: Uint8Array): Promise<number>;
  /** shutdown(SHUT_WR): FIN after queued bytes. */
  closeWrite(): Promise<void>;
  close(): void;
  /** TcpConn only. */
  setNoDelay?(noDelay?: boolean): void;
}

/** `Deno.Listener`. */
export interface DenoListener {
  readonly addr: DenoAddr;
  accept(): Promise<DenoConn>;
  close(): void;
}

/** `Deno.HttpServer`. */
export interface DenoHttpServer {
  readonly addr: DenoAddr;
  shutdown(): Promise<void>;
}

/** `Deno.serve` options that we use. */
export type DenoServeOptions =
  | { hostname: string; port: number; reusePort?: boolean; onListen(addr: DenoAddr): void }
  | { path: string; onListen(addr: DenoAddr): void };

/** `Deno.ChildProcess`. */
export interface DenoChildProcess {
  readonly pid: number;
  readonly status: Promise<{ readonly code: number }>;
  kill(signal?: string): void;
}

/** `Deno.errors`, reduced to the classes we test against. */
export interface DenoErrors {
  readonly BadResource: new (...args: never[]) => Error;
  readonly BrokenPipe: new (...args: never[]) => Error;
  readonly ConnectionReset: new (...args: never[]) => Error;
  readonly ConnectionAborted: new (...args: never[]) => Error;
  readonly Interrupted: new (...args: never[]) => Error;
}

/** The `Deno` global, reduced to what we call. */
export interface DenoApi {
  readonly version: { readonly deno: string };
  readonly pid: number;
  readonly args: readonly string[];
  readonly mainModule: string;
  readonly errors: DenoErrors;
  readonly env: { toObject(): Record<string, string> };
  /** Only present under `--unstable-net`; we use it to detect that flag. */
  readonly listenDatagram?: unknown;
  listen(
    options:
      | { hostname: string; port: number; transport?: "tcp"; reusePort?: boolean }
      | { transport: "unix"; path: string },
  ): DenoListener;
  serve(options: DenoServeOptions, handler: (request: Request) => Response | Promise<Response>): DenoHttpServer;
  addSignalListener(signal: string, handler: () => void): void;
  exit(code: number): never;
  execPath(): string;
  memoryUsage(): { rss: number; heapUsed: number };
  permissions: { querySync(descriptor: { name: string }): { readonly state: "granted" | "denied" | "prompt" } };
  Command: new (
    command: string,
    options: { args: readonly string[]; env: Record<string, string>; stdin: "inherit"; stdout: "inherit"; stderr: "inherit" },
  ) => { spawn(): DenoChildProcess };
}

/** The `Deno` global under our structural type; only call this when running under Deno. */
export function denoGlobal(): DenoApi {
  return (globalThis as unknown as { Deno: DenoApi }).Deno;
}
