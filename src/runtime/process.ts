/**
 * Process-level helpers the CLI needs, per runtime: signals, exit, env, args, memory, and
 * re-spawning this same program for `--workers N`.
 * @module
 */
import { readFile as readFileAsync } from "node:fs/promises";
import { writeSync } from "node:fs";
import nodeProcess from "node:process";
import { bunGlobal } from "./bun-api.ts";
import { denoGlobal } from "./deno-api.ts";
import { detectRuntime } from "./detect.ts";
import { RuntimeAdapterError } from "./errors.ts";
import type { RuntimeName } from "./types.ts";

/** Signals the CLI reacts to. */
export type ProcessSignal = "SIGTERM" | "SIGINT" | "SIGHUP";

/** A spawned worker process. */
export interface ChildHandle {
  readonly pid: number;
  /** Resolves to the exit code. */
  readonly exited: Promise<number>;
  kill(signal?: "SIGTERM" | "SIGINT" | "SIGHUP" | "SIGKILL"): void;
}

/** Calls `fn` on `signal`; the process no longer exits by default on it. */
export function onSignal(signal: ProcessSignal, fn: () => void): void {
  if (detectRuntime() === "deno") denoGlobal().addSignalListener(signal, fn);
  else nodeProcess.on(signal, fn);
}

/** Exits now with `code`. */
export function exit(code: number): never {
  if (detectRuntime() === "deno") return denoGlobal().exit(code);
  return nodeProcess.exit(code);
}

/** A snapshot of the environment. */
export function env(): Record<string, string | undefined> {
  return detectRuntime() === "deno" ? denoGlobal().env.toObject() : { ...nodeProcess.env };
}

/** This process's id. */
export function pid(): number {
  return detectRuntime() === "deno" ? denoGlobal().pid : nodeProcess.pid;
}

/** Resident set size and JS heap in use, in bytes. */
export function memoryUsage(): { rss: number; heapUsed: number } {
  const usage = detectRuntime() === "deno" ? denoGlobal().memoryUsage() : nodeProcess.memoryUsage();
  return { rss: usage.rss, heapUsed: usage.heapUsed };
}

/** The user's arguments (after the script, or after the binary when compiled). */
export function args(): string[] {
  return detectRuntime() === "deno" ? [...denoGlobal().args] : nodeProcess.argv.slice(2);
}

/** True inside a `bun build --compile` / `deno compile` binary. */
export function isCompiled(): boolean {
  if (detectRuntime() === "deno") return denoGlobal().mainModule.includes("/deno-compile-");
  if (detectRuntime() === "bun") return bunGlobal().main.startsWith("/$bunfs/") || bunGlobal().main.startsWith("B:/~BUN/");
  return false;
}

// Permissions re-granted to a Deno worker: exactly those this process holds.
const DENO_PERMISSIONS = ["net", "read", "write", "env", "sys", "run", "ffi", "import"] as const;

/** How to start this same program again (without user args). */
export function selfCommand(): string[] {
  const runtime = detectRuntime();
  if (runtime === "deno") {
    const Deno = denoGlobal();
    if (isCompiled()) return [Deno.execPath()];
    const flags = DENO_PERMISSIONS
      .filter((name) => Deno.permissions.querySync({ name }).state === "granted")
      .map((name) => `--allow-${name}`);
    if (typeof Deno.listenDatagram === "function") flags.push("--unstable-net");
    const main = Deno.mainModule.startsWith("file://") ? new URL(Deno.mainModule).pathname : Deno.mainModule;
    return [Deno.execPath(), "run", ...flags, main];
  }
  if (runtime === "bun" && isCompiled()) return [nodeProcess.execPath];
  const script = runtime === "bun" ? bunGlobal().main : nodeProcess.argv[1];
  return [nodeProcess.execPath, ...nodeProcess.execArgv, script];
}

/** Starts `selfCommand()` + `args` with stdio inherited and `extraEnv` added to this environment. */
export function spawnWorker(args: readonly string[], extraEnv: Record<string, string>): ChildHandle {
  const runtime = detectRuntime();
  if (runtime === "node") throw new RuntimeAdapterError("unsupported-runtime", "Cannot spawn workers under Node: use Bun or Deno");
  const [command, ...rest] = [...selfCommand(), ...args];
  if (runtime === "deno") {
    const child = new (denoGlobal().Command)(command, {
      args: rest,
      env: extraEnv,
      stdin: "inherit",
      stdout: "inherit",
      stderr: "inherit",
    }).spawn();
    return { pid: child.pid, exited: child.status.then((status) => status.code), kill: (signal) => child.kill(signal) };
  }
  const child = bunGlobal().spawn([command, ...rest], {
    env: { ...env(), ...extraEnv },
    stdio: ["inherit", "inherit", "inherit"],
  });
  return { pid: child.pid, exited: child.exited, kill: (signal) => child.kill(signal) };
}

/** Writes `text` to stdout or stderr synchronously, so a message just before `exit()` is not lost. */
export function write(stream: "out" | "err", text: string): void {
  writeSync(stream === "out" ? 1 : 2, text);
}

/** Reads a UTF-8 text file. */
export function readFile(path: string): Promise<string> {
  return readFileAsync(path, "utf8");
}

/** Everything above as one object, for the CLI to pass around (and for tests to fake). */
export interface HostProcess {
  readonly runtime: RuntimeName;
  readonly pid: number;
  args(): string[];
  env(): Record<string, string | undefined>;
  exit(code: number): never;
  write(stream: "out" | "err", text: string): void;
  readFile(path: string): Promise<string>;
  onSignal(signal: ProcessSignal, fn: () => void): void;
  memoryUsage(): { rss: number; heapUsed: number };
  selfCommand(): string[];
  spawnWorker(args: readonly string[], extraEnv: Record<string, string>): ChildHandle;
}

/** The host process of the detected runtime. */
export function hostProcess(): HostProcess {
  return {
    runtime: detectRuntime(),
    pid: pid(),
    args,
    env,
    exit,
    write,
    readFile,
    onSignal,
    memoryUsage,
    selfCommand,
    spawnWorker,
  };
}
