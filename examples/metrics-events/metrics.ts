/**
 * Engine events feeding metrics: `AgentEvents` hooks count connections, frames by type, handler
 * failures and read pauses, and `render()` prints them in the Prometheus text format. The hooks
 * are called synchronously on the hot path, so they only add to numbers.
 */
import { type Agent, type AgentEvents, type CloseReason, FrameType } from "@spoa-gcra/spoa-gcra";

const FRAME_NAMES: ReadonlyMap<number, string> = new Map(
  Object.entries(FrameType).map(([name, code]) => [code as number, name.toLowerCase().replace(/_/g, "-")]),
);

export class AgentMetrics {
  connectionsOpened = 0;
  readonly connectionsClosed = new Map<CloseReason, number>();
  readonly framesReceived = new Map<string, number>();
  readonly framesSent = new Map<string, number>();
  handlerFailures = 0;
  readPaused = 0;

  /** The hooks to pass as `new Agent({ events })`. */
  readonly events: AgentEvents = {
    connectionOpened: () => void this.connectionsOpened++,
    connectionClosed: (_id, reason) => void add(this.connectionsClosed, reason),
    frameReceived: (type) => void add(this.framesReceived, FRAME_NAMES.get(type) ?? String(type)),
    frameSent: (type) => void add(this.framesSent, FRAME_NAMES.get(type) ?? String(type)),
    handlerFailed: () => void this.handlerFailures++,
    readPaused: (paused) => void (paused && this.readPaused++),
  };

  /** Prometheus text: counters from the events, gauges read from the agent at scrape time. */
  render(agent: Agent): string {
    return [
      "# TYPE spoa_connections_opened_total counter",
      `spoa_connections_opened_total ${this.connectionsOpened}`,
      "# TYPE spoa_connections_closed_total counter",
      ...samples("spoa_connections_closed_total", "reason", this.connectionsClosed),
      "# TYPE spoa_frames_received_total counter",
      ...samples("spoa_frames_received_total", "type", this.framesReceived),
      "# TYPE spoa_frames_sent_total counter",
      ...samples("spoa_frames_sent_total", "type", this.framesSent),
      "# TYPE spoa_handler_failures_total counter",
      `spoa_handler_failures_total ${this.handlerFailures}`,
      "# TYPE spoa_read_paused_total counter",
      `spoa_read_paused_total ${this.readPaused}`,
      "# TYPE spoa_connections gauge",
      `spoa_connections ${agent.connectionCount}`,
      "# TYPE spoa_notify_in_flight gauge",
      `spoa_notify_in_flight ${agent.inFlight}`,
      "",
    ].join("\n");
  }
}

function add<K>(counts: Map<K, number>, key: K): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

function samples(name: string, label: string, counts: ReadonlyMap<string, number>): string[] {
  return [...counts].map(([value, count]) => `${name}{${label}="${value}"} ${count}`);
}
