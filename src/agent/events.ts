/**
 * Observability hooks of the protocol engine, and the wrapper that keeps a faulty hook
 * from ever breaking the protocol.
 * @module
 */
import type { HaproxyHello } from "../spop/frame.ts";

/**
 * Why a connection closed. Peer closes (EOF, RST, EPIPE) are normal, not errors.
 *
 * @example Alert only on the abnormal reasons
 * ```ts
 * import type { AgentEvents, CloseReason } from "@spoa-gcra/spoa-gcra";
 *
 * const abnormal: ReadonlySet<CloseReason> = new Set(["protocol-error", "hello-timeout"]);
 * const alerts: string[] = [];
 * const events: AgentEvents = { connectionClosed: (id, reason) => void (abnormal.has(reason) && alerts.push(`${id}: ${reason}`)) };
 * events.connectionClosed?.(1, "peer-closed");
 * events.connectionClosed?.(2, "protocol-error");
 * console.assert(alerts.join() === "2: protocol-error");
 * ```
 */
export type CloseReason =
  | "peer-closed"
  | "peer-error"
  | "haproxy-disconnect"
  | "protocol-error"
  | "hello-timeout"
  | "drained";

/**
 * Engine events for metrics and logs; every member is optional and called synchronously.
 *
 * @example Count connections and frames
 * ```ts
 * import { Agent, type AgentEvents, encodeFrame } from "@spoa-gcra/spoa-gcra";
 * import { timers } from "@spoa-gcra/spoa-gcra/bun";
 *
 * const counts = { opened: 0, frames: 0 };
 * const events: AgentEvents = { connectionOpened: () => counts.opened++, frameReceived: () => counts.frames++ };
 * const agent = new Agent({ handler: { handle: () => [], failureActions: () => [] }, timers, events });
 * const port = agent.accept({ write: () => true, end() {}, pause() {}, resume() {}, remoteAddress: "memory" });
 * port.receive(encodeFrame({ type: "haproxy-hello", hello: { supportedVersions: ["2.0"], maxFrameSize: 16380, capabilities: [] } }));
 * console.assert(counts.opened === 1 && counts.frames === 1);
 * port.closed();
 * ```
 */
export interface AgentEvents {
  /** A transport was accepted. */
  connectionOpened?(id: number, remoteAddress: string): void;
  /** The transport reported closed; `reason` says who started it. */
  connectionClosed?(id: number, reason: CloseReason): void;
  /** A HAPROXY-HELLO was accepted (runtime and health-check HELLOs alike). */
  helloReceived?(id: number, hello: HaproxyHello): void;
  /** A complete frame was read, by type code. */
  frameReceived?(type: number): void;
  /** A frame was queued for sending, by type code. */
  frameSent?(type: number): void;
  /** We sent AGENT-DISCONNECT with this status and message. */
  disconnectSent?(id: number, status: number, reason: string): void;
  /** HAProxy sent HAPROXY-DISCONNECT. */
  disconnectReceived?(id: number, status: number, message: string): void;
  /** A handler threw or rejected (or returned actions that could not be encoded). */
  handlerFailed?(id: number, error: unknown): void;
  /** Global in-flight backpressure engaged (true) or released (false). */
  readPaused?(paused: boolean): void;
}

/** Every hook present, each one unable to throw. */
export type SafeEvents = { readonly [K in keyof AgentEvents]-?: NonNullable<AgentEvents[K]> };

const noop = (): void => {};

/**
 * Wraps each provided hook in try/catch and fills the missing ones with no-ops, so the
 * hot path calls hooks unconditionally and an observer bug cannot kill a connection.
 */
export function safeEvents(events: AgentEvents | undefined): SafeEvents {
  const wrap = <K extends keyof AgentEvents>(name: K): NonNullable<AgentEvents[K]> => {
    const hook = events?.[name];
    if (hook === undefined) return noop as NonNullable<AgentEvents[K]>;
    const call = hook as (...args: unknown[]) => void;
    return ((...args: unknown[]): void => {
      try {
        call.apply(events, args);
      } catch {
        // Deliberately ignored: the hooks ARE the reporting channel, there is nowhere left
        // to report their own failure, and the protocol must not depend on them.
      }
    }) as NonNullable<AgentEvents[K]>;
  };
  return {
    connectionOpened: wrap("connectionOpened"),
    connectionClosed: wrap("connectionClosed"),
    helloReceived: wrap("helloReceived"),
    frameReceived: wrap("frameReceived"),
    frameSent: wrap("frameSent"),
    disconnectSent: wrap("disconnectSent"),
    disconnectReceived: wrap("disconnectReceived"),
    handlerFailed: wrap("handlerFailed"),
    readPaused: wrap("readPaused"),
  };
}
