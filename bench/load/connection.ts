/**
 * One generator connection: HELLO, then NOTIFYs written in batches (one socket write per batch),
 * ACKs matched to their send time by stream-id. Knows nothing of pacing: the runner tells it
 * when to send (closed loop: on every ACK; open loop: at scheduled times).
 * @module
 */
import type { Socket } from "bun";
import { type AddressPool, ackVerdict, haproxyDisconnect, haproxyHello, type HelloStyle, lastVarint, type NotifyTemplate, scanVarint, Verdict, type VerdictCode } from "./frames.ts";
import { FrameStream } from "./stream.ts";

const TYPE_HAPROXY_DISCONNECT = 2;
const TYPE_AGENT_HELLO = 101;
const TYPE_AGENT_DISCONNECT = 102;
const TYPE_ACK = 103;

/** What a connection reports to its runner. */
export interface ConnectionEvents {
  /** An ACK on `connection` for a NOTIFY whose (scheduled) start time was `startMs`. */
  ack(connection: LoadConnection, startMs: number, nowMs: number, verdict: VerdictCode): void;
  /** The agent finished the HELLO: the connection may send. */
  ready(connection: LoadConnection): void;
  error(kind: string, detail: string): void;
  disconnect(status: number): void;
  closed(connection: LoadConnection): void;
}

/** Shared, run-wide inputs of every connection. */
export interface ConnectionShared {
  readonly template: NotifyTemplate;
  readonly pool: AddressPool;
  readonly style: HelloStyle;
  readonly events: ConnectionEvents;
  /** Next key index (a seeded PRNG shared by all connections). */
  readonly nextKey: () => number;
  /** HAProxy ≤ 3.0: one stream-id counter per process. */
  readonly nextClassicStreamId: () => number;
  readonly engineId: string;
}

/** A connection of the load generator. */
export class LoadConnection {
  readonly index: number;
  /** NOTIFYs in flight allowed on this connection (1 if the agent refused pipelining). */
  cap: number;
  state: "connecting" | "hello" | "ready" | "closing" | "closed" = "connecting";
  readonly #shared: ConnectionShared;
  readonly #inflight = new Map<number, number>();
  readonly #stream = new FrameStream();
  readonly #batch: Uint8Array;
  #batchLength = 0;
  #pending: Uint8Array[] = [];
  #socket: Socket<LoadConnection> | undefined;
  #nextStreamId = 1;
  readonly #ids = { streamId: 0, frameId: 1 };
  readonly #sink = (type: number, buf: Uint8Array, idStart: number, end: number) => this.#onFrame(type, buf, idStart, end);

  constructor(index: number, cap: number, shared: ConnectionShared) {
    this.index = index;
    this.cap = cap;
    this.#shared = shared;
    this.#batch = new Uint8Array(Math.max(64, cap) * shared.template.maxBytes);
  }

  /** NOTIFYs sent and not answered yet. */
  get inFlight(): number {
    return this.#inflight.size;
  }

  /** Connects and sends the HELLO. */
  async open(host: string, port: number): Promise<void> {
    const self = this;
    this.#socket = await Bun.connect<LoadConnection>({
      hostname: host,
      port,
      data: this,
      socket: {
        binaryType: "uint8array",
        open(socket) {
          self.#socket = socket;
          self.state = "hello";
          self.#write(haproxyHello(self.#shared.style, self.#shared.engineId));
        },
        data(_socket, chunk) {
          self.#onData(chunk);
        },
        drain() {
          self.#flushPending();
        },
        error(_socket, error) {
          self.#shared.events.error("socket", error.message);
        },
        close() {
          self.#onClose();
        },
      },
    });
  }

  /** Adds one NOTIFY started at `startMs` to the current batch (call flush() after a burst). */
  send(startMs: number): void {
    const shared = this.#shared;
    if (this.#batchLength + shared.template.maxBytes > this.#batch.length) this.flush();
    const ids = this.#ids;
    if (shared.style === "2.6") {
      ids.streamId = shared.nextClassicStreamId();
    } else {
      ids.streamId = this.#nextStreamId;
      this.#nextStreamId += 2;
    }
    this.#inflight.set(ids.streamId, startMs);
    this.#batchLength = shared.template.write(this.#batch, this.#batchLength, ids, shared.pool.address(shared.nextKey()));
  }

  /** Writes the current batch in one socket write. */
  flush(): void {
    if (this.#batchLength === 0) return;
    const bytes = this.#batch.subarray(0, this.#batchLength);
    this.#batchLength = 0;
    this.#write(bytes);
  }

  /** Sends HAPROXY-DISCONNECT 0 and ends the socket; the agent's DISCONNECT is awaited by the runner. */
  close(): void {
    if (this.state === "closed" || this.state === "closing") return;
    this.flush();
    this.state = "closing";
    this.#write(haproxyDisconnect());
  }

  /** Ends the socket now. */
  end(): void {
    this.#socket?.end();
  }

  #write(bytes: Uint8Array): void {
    const socket = this.#socket;
    if (socket === undefined) return;
    if (this.#pending.length > 0) {
      this.#pending.push(bytes.slice());
      return;
    }
    const written = socket.write(bytes);
    if (written < 0) return; // closed; close() reports it
    if (written < bytes.length) this.#pending.push(bytes.slice(written));
  }

  #flushPending(): void {
    const socket = this.#socket;
    while (socket !== undefined && this.#pending.length > 0) {
      const head = this.#pending[0];
      const written = socket.write(head);
      if (written < 0) return;
      if (written < head.length) {
        this.#pending[0] = head.subarray(written);
        return;
      }
      this.#pending.shift();
    }
  }

  #onData(chunk: Uint8Array): void {
    try {
      this.#stream.push(chunk, this.#sink);
    } catch (error) {
      this.#shared.events.error("protocol", (error as Error).message);
      this.#socket?.terminate();
      return;
    }
    this.flush();
  }

  #onFrame(type: number, buf: Uint8Array, idStart: number, end: number): void {
    const events = this.#shared.events;
    if (type === TYPE_ACK) {
      const p = scanVarint(buf, idStart, end);
      if (p < 0) return events.error("protocol", "ACK with a truncated stream-id");
      const streamId = lastVarint();
      const q = scanVarint(buf, p, end);
      if (q < 0) return events.error("protocol", "ACK with a truncated frame-id");
      const startMs = this.#inflight.get(streamId);
      if (startMs === undefined) return events.error("protocol", `ACK for unknown stream-id ${streamId}`);
      this.#inflight.delete(streamId);
      const verdict = ackVerdict(buf, q, end);
      if (verdict === Verdict.MALFORMED) events.error("protocol", "malformed ACK actions");
      events.ack(this, startMs, performance.now(), verdict);
      return;
    }
    if (type === TYPE_AGENT_HELLO) {
      if (this.state !== "hello") return events.error("protocol", "unexpected AGENT-HELLO");
      const payload = new TextDecoder().decode(buf.subarray(idStart + 2, end));
      // The capabilities value is the last STRING of the KV list in practice; a substring test is enough here.
      if (!payload.includes("pipelining")) this.cap = 1;
      this.state = "ready";
      events.ready(this);
      return;
    }
    if (type === TYPE_AGENT_DISCONNECT || type === TYPE_HAPROXY_DISCONNECT) {
      events.disconnect(disconnectStatus(buf, idStart + 2, end));
      this.state = "closing";
      this.#socket?.end();
      return;
    }
    events.error("protocol", `unexpected frame type ${type}`);
  }

  #onClose(): void {
    if (this.state === "closed") return;
    const wasActive = this.state !== "closing";
    this.state = "closed";
    if (wasActive) this.#shared.events.error("closed", "agent closed the connection");
    this.#shared.events.closed(this);
  }
}

/** The status-code of a DISCONNECT KV list, or -1 when absent. */
export function disconnectStatus(buf: Uint8Array, start: number, end: number): number {
  const key = "status-code";
  let p = start;
  while (p < end) {
    p = scanVarint(buf, p, end);
    if (p < 0) return -1;
    const keyStart = p;
    const keyLen = lastVarint();
    p += keyLen;
    if (p >= end) return -1;
    const t = buf[p++] & 0x0f;
    let isStatus = keyLen === key.length;
    for (let i = 0; isStatus && i < keyLen; i++) isStatus = buf[keyStart + i] === key.charCodeAt(i);
    if (t >= 2 && t <= 5) {
      p = scanVarint(buf, p, end);
      if (p < 0) return -1;
      if (isStatus) return lastVarint();
    } else if (t === 8 || t === 9) {
      p = scanVarint(buf, p, end);
      if (p < 0) return -1;
      p += lastVarint();
    } else if (t === 6) p += 4;
    else if (t === 7) p += 16;
    else if (t > 1) return -1;
  }
  return -1;
}
