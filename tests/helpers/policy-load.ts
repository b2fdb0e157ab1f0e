/**
 * HAProxy's side of SPOP over a real TCP socket, for the policy e2e tests: one connection
 * (HELLO, NOTIFYs, their ACKs, the ACK's variables), a pipelined NOTIFY load over several
 * connections that proves nothing was dropped, and small waits on the agent's log.
 * @module
 */
import { connect, type Socket } from "node:net";
import type { Action, Message, TypedData } from "../../src/spop/types.ts";
import type { AgentProcess } from "./agent-process.ts";
import { type AgentReply, helloFrame, notifyFrame, ReplyParser } from "../../src/spop/client.ts";

/** One SPOP connection to the agent after a successful HELLO. */
export interface SpopConnection {
  /** Sends one NOTIFY; `onAck` gets its actions, or undefined when the connection closed first. */
  notify(messages: readonly Message[], onAck?: (actions: readonly Action[] | undefined) => void): void;
  /** Sends one NOTIFY and waits (bounded) for its ACK's actions. */
  decide(messages: readonly Message[], timeoutMs?: number): Promise<readonly Action[]>;
  /** True once the connection ended or the agent sent AGENT-DISCONNECT; `closeReason` says why. */
  readonly closed: () => boolean;
  readonly closeReason: () => string | undefined;
  /** NOTIFYs not yet ACKed. */
  readonly pending: () => number;
  /** ACKs whose stream/frame id matched no outstanding NOTIFY. */
  readonly strayAcks: () => number;
  close(): void;
}

/** Opens a TCP connection to 127.0.0.1:`port`, sends HAPROXY-HELLO, waits for AGENT-HELLO. */
export function openSpop(port: number, timeoutMs = 5_000): Promise<SpopConnection> {
  return new Promise((resolveOpen, reject) => {
    const socket: Socket = connect({ host: "127.0.0.1", port });
    const parser = new ReplyParser();
    const waiting = new Map<number, (actions: readonly Action[] | undefined) => void>();
    let nextStream = 1;
    let hello = false;
    let closeReason: string | undefined;
    let stray = 0;
    const timer = setTimeout(() => fail(`no AGENT-HELLO from port ${port} within ${timeoutMs} ms`), timeoutMs);

    function fail(reason: string): void {
      closeReason ??= reason;
      socket.destroy();
      if (!hello) {
        clearTimeout(timer);
        reject(new Error(reason));
      }
    }

    function onReply(reply: AgentReply): void {
      switch (reply.type) {
        case "agent-hello":
          hello = true;
          clearTimeout(timer);
          resolveOpen(connection);
          return;
        case "ack": {
          const done = waiting.get(Number(reply.streamId));
          if (done === undefined || Number(reply.frameId) !== 1) {
            stray++;
            return;
          }
          waiting.delete(Number(reply.streamId));
          done(reply.actions);
          return;
        }
        case "agent-disconnect":
          closeReason ??= `AGENT-DISCONNECT status ${reply.status}: ${reply.message}`;
          return;
        default:
          stray++;
      }
    }

    const connection: SpopConnection = {
      notify(messages, onAck = () => {}) {
        if (closeReason !== undefined) return onAck(undefined);
        const streamId = nextStream++;
        waiting.set(streamId, onAck);
        socket.write(notifyFrame({ streamId, frameId: 1 }, messages));
      },
      decide(messages, decideTimeoutMs = 5_000) {
        return new Promise((resolveAck, rejectAck) => {
          const t = setTimeout(() => rejectAck(new Error(`no ACK within ${decideTimeoutMs} ms`)), decideTimeoutMs);
          connection.notify(messages, (actions) => {
            clearTimeout(t);
            if (actions === undefined) rejectAck(new Error(`connection closed before the ACK: ${closeReason}`));
            else resolveAck(actions);
          });
        });
      },
      closed: () => closeReason !== undefined,
      closeReason: () => closeReason,
      pending: () => waiting.size,
      strayAcks: () => stray,
      close() {
        closeReason ??= "closed by the test";
        socket.destroy();
      },
    };

    socket.on("connect", () => socket.write(helloFrame()));
    socket.on("data", (chunk: Buffer) => {
      let replies: AgentReply[];
      try {
        replies = parser.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      } catch (error) {
        return fail(`undecodable reply: ${(error as Error).message}`);
      }
      for (const reply of replies) onReply(reply);
    });
    socket.on("error", (error) => fail(`socket error: ${error.message}`));
    socket.on("close", () => {
      closeReason ??= "closed by the agent";
      const orphans = [...waiting.values()];
      waiting.clear();
      for (const done of orphans) done(undefined);
      if (!hello) fail(closeReason);
    });
  });
}

/** The variables an ACK sets, by `<scope>.<name>` (`txn.policy`), with their plain values. */
export function ackVars(actions: readonly Action[]): Map<string, string | number | boolean | null> {
  const vars = new Map<string, string | number | boolean | null>();
  for (const action of actions) {
    if (action.type === "set-var") vars.set(`${action.scope}.${action.name}`, plainValue(action.value));
  }
  return vars;
}

function plainValue(data: TypedData): string | number | boolean | null {
  switch (data.kind) {
    case "null":
      return null;
    case "ipv6":
    case "binary":
      return Buffer.from(data.value).toString("hex");
    default:
      return typeof data.value === "bigint" ? Number(data.value) : data.value;
  }
}

/** A `check-rate` message as the shipped spoe-ratelimit.conf sends it (the arguments the tests need). */
export function checkRate(options: { readonly src: string; readonly path?: string; readonly xff?: string }): Message {
  const [a, b, c, d] = options.src.split(".").map(Number);
  const args: Message["args"][number][] = [
    { name: "ip_src", kind: "ipv4", value: ((a << 24) | (b << 16) | (c << 8) | d) >>> 0 },
    { name: "path", kind: "string", value: options.path ?? "/" },
  ];
  if (options.xff !== undefined) args.push({ name: "ip_xff", kind: "string", value: options.xff });
  return { name: "check-rate", args };
}

/** What a NOTIFY load did. */
export interface LoadReport {
  readonly sent: number;
  readonly acked: number;
  /** NOTIFYs whose connection closed before their ACK. */
  readonly unanswered: number;
  /** ACKs that `accept` refused (e.g. a failure decision instead of a real one). */
  readonly refused: number;
  readonly strayAcks: number;
  /** Why each closed connection closed; empty when every connection stayed open. */
  readonly closed: readonly string[];
}

/**
 * Keeps `inFlight` pipelined NOTIFYs outstanding on each of `connections` connections until
 * `durationMs` passes (at most `maxPerConnection` each), then waits up to `drainMs` for the
 * last ACKs. `during` runs alongside (the SIGHUP storm) and is awaited too.
 */
export async function notifyLoad(options: {
  readonly port: number;
  readonly connections: number;
  readonly inFlight: number;
  readonly durationMs: number;
  readonly maxPerConnection: number;
  readonly message: (n: number) => Message;
  /** Judges each ACK's actions; default: every ACK is fine. */
  readonly accept?: (actions: readonly Action[]) => boolean;
  readonly during?: () => Promise<void>;
  readonly drainMs?: number;
}): Promise<LoadReport> {
  const conns = await Promise.all(Array.from({ length: options.connections }, () => openSpop(options.port)));
  let sent = 0;
  let acked = 0;
  let unanswered = 0;
  let refused = 0;
  const accept = options.accept ?? (() => true);
  const deadline = Date.now() + options.durationMs;
  const runOne = (conn: SpopConnection) =>
    new Promise<void>((finished) => {
      let mine = 0;
      let outstanding = 0;
      const pump = () => {
        while (outstanding < options.inFlight && mine < options.maxPerConnection && Date.now() < deadline && !conn.closed()) {
          mine++;
          outstanding++;
          sent++;
          conn.notify([options.message(sent)], (actions) => {
            outstanding--;
            if (actions === undefined) unanswered++;
            else {
              acked++;
              if (!accept(actions)) refused++;
            }
            // Refill from a macrotask so one connection cannot starve the others (or the timers).
            setImmediate(pump);
          });
        }
        if (outstanding === 0) finished();
      };
      pump();
    });
  const drainMs = options.drainMs ?? 5_000;
  const work = Promise.all(conns.map(runOne));
  const bounded = Promise.race([
    work,
    new Promise<void>((stop) => setTimeout(stop, options.durationMs + drainMs).unref()),
  ]);
  await Promise.all([bounded, options.during?.()]);
  const closed = conns.filter((c) => c.closed()).map((c) => c.closeReason() ?? "closed");
  const strayAcks = conns.reduce((n, c) => n + c.strayAcks(), 0);
  for (const conn of conns) conn.close();
  return { sent, acked, unanswered, refused, strayAcks, closed };
}

/** The agent's log lines whose `msg` is `msg`. */
export function logsWith(agent: AgentProcess, msg: string): Record<string, unknown>[] {
  return agent.logs().filter((line) => line.msg === msg);
}

/** Waits (bounded) until the agent has logged `msg` at least `count` times; returns those lines. */
export async function waitForLogCount(
  agent: AgentProcess,
  options: { readonly msg: string; readonly count: number; readonly timeoutMs?: number },
): Promise<Record<string, unknown>[]> {
  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  while (Date.now() < deadline) {
    const lines = logsWith(agent, options.msg);
    if (lines.length >= options.count) return lines;
    await Bun.sleep(25);
  }
  throw new Error(`agent logged "${options.msg}" ${logsWith(agent, options.msg).length} times, expected ${options.count}:\n${agent.output()}`);
}
