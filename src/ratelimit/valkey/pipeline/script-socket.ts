/**
 * One raw connection to one Valkey node for script calls: pre-encoded commands in, replies
 * out in order (RESP pipelines: the n-th reply answers the n-th command). It logs in (AUTH,
 * SELECT), loads the scripts on every (re)connect — a restarted node has an empty script cache —
 * and reconnects in the background with the same capped backoff as node-redis.
 * While it is not connected, calls fail at once ("unavailable"): the failure policy decides,
 * as with node-redis' disableOfflineQueue.
 * @module
 */
import { ValkeyStoreError } from "../errors.ts";
import { reconnectDelayMs } from "../options.ts";
import type { DialedSocket, Dialer } from "./dial.ts";
import { RespError, RespReader, type RespValue } from "./resp-reader.ts";
import { encodeCommand } from "./resp-writer.ts";

/** Replies awaited at most (node-redis' commandsQueueMaxLength): beyond it Valkey is not keeping up. */
const MAX_PENDING = 10_000;
/** The client name of lean script sockets in CLIENT LIST. */
export const SCRIPT_CLIENT_NAME = "spoa-gcra-script";
const SETNAME = encodeCommand(["CLIENT", "SETNAME", SCRIPT_CLIENT_NAME]);

export interface ScriptSocketOptions {
  readonly host: string;
  readonly port: number;
  readonly dial: Dialer;
  readonly username?: string;
  readonly password?: string;
  readonly db: number;
  /** Sources to SCRIPT LOAD after each connect. */
  readonly scripts: readonly string[];
  readonly connectTimeoutMs: number;
  /** Connection trouble, for throttled logs (never on the decision path). */
  readonly onError: (error: unknown) => void;
}

interface Waiter {
  resolve(reply: RespValue): void;
  reject(error: unknown): void;
}

/** A pipelined script connection to one node. */
export class ScriptSocket {
  readonly address: string;
  readonly #options: ScriptSocketOptions;
  readonly #reader: RespReader;
  #socket: DialedSocket | undefined;
  #ready = false;
  #connecting = false;
  #closed = false;
  #attempt = 0;
  #retry: ReturnType<typeof setTimeout> | undefined;
  /** FIFO of replies awaited; `#head` is the next to answer (no shift() per reply). */
  #waiters: Waiter[] = [];
  #head = 0;
  #onReady: (() => void)[] = [];
  #outgoing: Uint8Array[] = [];
  #outgoingBytes = 0;

  constructor(options: ScriptSocketOptions) {
    this.#options = options;
    this.address = `${options.host}:${options.port}`;
    this.#reader = new RespReader((reply) => this.#answer(reply));
    this.#connect();
  }

  get ready(): boolean {
    return this.#ready;
  }

  /** Resolves once connected and logged in (or closed); never rejects. */
  whenReady(): Promise<void> {
    if (this.#ready || this.#closed) return Promise.resolve();
    return new Promise((resolve) => this.#onReady.push(resolve));
  }

  /** Writes one pre-encoded command; resolves with its reply (a RespError reply rejects). */
  call(command: Uint8Array): Promise<RespValue> {
    if (!this.#ready || this.#socket === undefined) {
      return Promise.reject(new ValkeyStoreError("unavailable", `Valkey connection to ${this.address} is not ready`));
    }
    if (this.#waiters.length - this.#head >= MAX_PENDING) {
      return Promise.reject(new ValkeyStoreError("unavailable", `Valkey command queue is full (${MAX_PENDING} awaiting replies)`));
    }
    return this.#send(this.#socket, command);
  }

  #send(socket: DialedSocket, command: Uint8Array): Promise<RespValue> {
    return new Promise<RespValue>((resolve, reject) => {
      this.#waiters.push({ resolve, reject });
      this.#outgoing.push(command);
      this.#outgoingBytes += command.length;
      if (this.#outgoing.length === 1) queueMicrotask(() => this.#flush(socket));
    });
  }

  /**
   * Every command written in one turn leaves in one socket write: a cluster's batches are one
   * script call per hash tag, often dozens per turn on one node, and each write is a system call.
   */
  #flush(socket: DialedSocket): void {
    const parts = this.#outgoing;
    const bytes = this.#outgoingBytes;
    this.#outgoing = [];
    this.#outgoingBytes = 0;
    if (socket !== this.#socket) return; // the connection was lost meanwhile: its waiters are already failed
    if (parts.length === 1) return socket.write(parts[0]);
    const joined = new Uint8Array(bytes);
    let o = 0;
    for (const part of parts) {
      joined.set(part, o);
      o += part.length;
    }
    socket.write(joined);
  }

  #answer(reply: RespValue): void {
    const waiter = this.#waiters[this.#head++];
    if (this.#head > 1024 && this.#head * 2 > this.#waiters.length) {
      this.#waiters = this.#waiters.slice(this.#head);
      this.#head = 0;
    }
    if (waiter === undefined) return; // a reply nobody asked for: the stream is out of step
    if (reply instanceof RespError) waiter.reject(reply);
    else waiter.resolve(reply);
  }

  #connect(): void {
    if (this.#closed || this.#connecting) return;
    this.#connecting = true;
    const { host, port, dial, connectTimeoutMs } = this.#options;
    let timedOut = false;
    let socket: DialedSocket | undefined;
    const timer = setTimeout(() => {
      timedOut = true;
      this.#failed(new ValkeyStoreError("unavailable", `connect to ${this.address} timed out after ${connectTimeoutMs} ms`));
    }, connectTimeoutMs);
    dial({ host, port }, { data: (chunk) => this.#reader.push(chunk), closed: (error) => this.#lost(socket, error) })
      .then(async (opened) => {
        socket = opened;
        if (timedOut || this.#closed) return opened.close();
        this.#socket = opened;
        await this.#handshake(opened);
        clearTimeout(timer);
        if (timedOut || this.#closed || this.#socket !== opened) return;
        this.#connecting = false;
        this.#ready = true;
        this.#attempt = 0;
        for (const resolve of this.#onReady.splice(0)) resolve();
      })
      .catch((error: unknown) => {
        clearTimeout(timer);
        if (timedOut) return;
        socket?.close();
        this.#failed(error);
      });
  }

  /** Login, database and scripts, pipelined: one round trip. A refusal fails the connect. */
  async #handshake(socket: DialedSocket): Promise<void> {
    const { username, password, db, scripts } = this.#options;
    const steps: Promise<RespValue>[] = [];
    if (password !== undefined) {
      steps.push(this.#send(socket, encodeCommand(username === undefined ? ["AUTH", password] : ["AUTH", username, password])));
    }
    if (db !== 0) steps.push(this.#send(socket, encodeCommand(["SELECT", String(db)])));
    // Named, so CLIENT LIST tells the lean sockets from node-redis' (connections per shard);
    // an ACL without CLIENT SETNAME costs the name, not the connection.
    steps.push(this.#send(socket, SETNAME).catch(() => null));
    for (const source of scripts) steps.push(this.#send(socket, encodeCommand(["SCRIPT", "LOAD", source])));
    await Promise.all(steps);
  }

  #lost(socket: DialedSocket | undefined, error: unknown): void {
    if (socket !== undefined && socket !== this.#socket) return;
    this.#failed(error ?? new ValkeyStoreError("unavailable", `Valkey connection to ${this.address} closed`));
  }

  /** The connection is unusable: fail what waits, reconnect after a backoff. */
  #failed(error: unknown): void {
    const socket = this.#socket;
    this.#socket = undefined;
    this.#ready = false;
    this.#connecting = false;
    socket?.close();
    this.#reader.reset();
    const waiters = this.#waiters.slice(this.#head);
    this.#waiters = [];
    this.#head = 0;
    const reason = error instanceof ValkeyStoreError
      ? error
      : new ValkeyStoreError("unavailable", `Valkey connection to ${this.address} failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    for (const waiter of waiters) waiter.reject(reason);
    if (this.#closed) return;
    this.#options.onError(reason);
    if (this.#retry === undefined) {
      this.#retry = setTimeout(() => {
        this.#retry = undefined;
        this.#connect();
      }, reconnectDelayMs(this.#attempt++));
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#retry);
    for (const resolve of this.#onReady.splice(0)) resolve();
    this.#failed(new ValkeyStoreError("closed", "Valkey store is closed"));
  }
}
