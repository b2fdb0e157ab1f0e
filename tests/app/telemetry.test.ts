import { describe, expect, test } from "bun:test";
import { createTelemetry } from "../../src/app/telemetry.ts";
import { createLogger } from "../../src/observe/log.ts";
import { Registry } from "../../src/observe/metrics.ts";
import { parsePrometheus, sampleValue } from "../observe/prom-parser.ts";

function setup(level: "debug" | "info" = "info") {
  const registry = new Registry();
  const lines: Record<string, unknown>[] = [];
  let clock = 1_000_000;
  const logger = createLogger({ level, sink: (l) => lines.push(JSON.parse(l)), clock: { nowUs: () => clock * 1000 } });
  const telemetry = createTelemetry({
    registry,
    logger,
    pid: 4242,
    memoryUsage: () => ({ rss: 50_000_000, heapUsed: 9_000_000 }),
    runtime: "bun",
    version: "9.9.9",
    clock: { nowUs: () => clock * 1000 },
    lagTimers: false,
  });
  return {
    registry,
    telemetry,
    lines,
    scrape: () => parsePrometheus(registry.render()),
    advance: (ms: number) => {
      clock += ms;
    },
  };
}

describe("createTelemetry()", () => {
  test("exposes every documented metric family with the spoa_ prefix in valid Prometheus text", () => {
    const { telemetry, scrape } = setup();
    telemetry.observeAgent({ inFlight: 0 });
    const families = scrape();
    for (const name of [
      "spoa_decisions_total", "spoa_decision_duration_seconds", "spoa_store_duration_seconds", "spoa_store_errors_total",
      "spoa_store_late_replies_total", "spoa_circuit_breaker_state", "spoa_degraded_decisions_total", "spoa_deny_cache_hits_total",
      "spoa_connections_open", "spoa_connections_accepted_total", "spoa_frames_received_total", "spoa_frames_sent_total",
      "spoa_disconnects_sent_total", "spoa_disconnects_received_total", "spoa_handler_errors_total", "spoa_notifies_in_flight",
      "spoa_read_paused", "spoa_event_loop_lag_seconds", "spoa_process_resident_memory_bytes", "spoa_process_heap_bytes",
      "spoa_build_info", "spoa_process_pid", "spoa_response_refused_total", "spoa_connections_refused_total",
      "spoa_fd_limit_reached_total", "spoa_accept_errors_total",
    ]) {
      expect(families.has(name)).toBe(true);
    }
    expect(families.size).toBe(26);
  });

  test("build info, pid and memory gauges carry the injected values", () => {
    const families = setup().scrape();
    expect(sampleValue(families, "spoa_build_info", { version: "9.9.9", runtime: "bun" })).toBe(1);
    expect(sampleValue(families, "spoa_process_pid")).toBe(4242);
    expect(sampleValue(families, "spoa_process_resident_memory_bytes")).toBe(50_000_000);
    expect(sampleValue(families, "spoa_process_heap_bytes")).toBe(9_000_000);
  });

  test("recordDecision() counts by limit and result and observes the latency", () => {
    const { telemetry, scrape } = setup();
    telemetry.recordDecision({ limit: "per-ip", result: "allow", degraded: false, seconds: 0.0002 });
    telemetry.recordDecision({ limit: "per-ip", result: "deny", degraded: false, seconds: 0.0002 });
    telemetry.recordDecision({ limit: "login", result: "shadow_deny", degraded: false, seconds: 0.003 });
    const families = scrape();
    expect(sampleValue(families, "spoa_decisions_total", { limit: "per-ip", result: "allow" })).toBe(1);
    expect(sampleValue(families, "spoa_decisions_total", { limit: "per-ip", result: "deny" })).toBe(1);
    expect(sampleValue(families, "spoa_decisions_total", { limit: "login", result: "shadow_deny" })).toBe(1);
    expect(sampleValue(families, "spoa_decision_duration_seconds_count")).toBe(3);
    expect(sampleValue(families, "spoa_decision_duration_seconds_bucket", { le: "0.00025" })).toBe(2);
  });

  test("agent events drive the connection, frame and disconnect metrics", () => {
    const { telemetry, scrape } = setup();
    const events = telemetry.agentEvents;
    events.connectionOpened?.(1, "127.0.0.1:5000");
    events.connectionOpened?.(2, "127.0.0.1:5001");
    events.connectionClosed?.(1, "peer-closed");
    events.frameReceived?.(1);
    events.frameReceived?.(3);
    events.frameReceived?.(3);
    events.frameReceived?.(77);
    events.frameSent?.(101);
    events.frameSent?.(103);
    events.disconnectSent?.(2, 3, "frame too big");
    events.disconnectReceived?.(2, 0, "normal");
    events.disconnectReceived?.(2, 4242, "odd");
    events.handlerFailed?.(2, new Error("x"));
    events.readPaused?.(true);
    const f = scrape();
    expect(sampleValue(f, "spoa_connections_open")).toBe(1);
    expect(sampleValue(f, "spoa_connections_accepted_total")).toBe(2);
    expect(sampleValue(f, "spoa_frames_received_total", { type: "haproxy_hello" })).toBe(1);
    expect(sampleValue(f, "spoa_frames_received_total", { type: "notify" })).toBe(2);
    expect(sampleValue(f, "spoa_frames_received_total", { type: "unknown" })).toBe(1);
    expect(sampleValue(f, "spoa_frames_sent_total", { type: "agent_hello" })).toBe(1);
    expect(sampleValue(f, "spoa_frames_sent_total", { type: "ack" })).toBe(1);
    expect(sampleValue(f, "spoa_disconnects_sent_total", { status: "3" })).toBe(1);
    expect(sampleValue(f, "spoa_disconnects_received_total", { status: "0" })).toBe(1);
    expect(sampleValue(f, "spoa_disconnects_received_total", { status: "other" })).toBe(1);
    expect(sampleValue(f, "spoa_handler_errors_total")).toBe(1);
    expect(sampleValue(f, "spoa_read_paused")).toBe(1);
  });

  test("store events drive breaker, degraded, error, late-reply and deny-cache metrics", () => {
    const { telemetry, scrape } = setup();
    telemetry.onStoreEvent({ kind: "breaker", state: "open", node: "", nodeState: "open" });
    telemetry.onStoreEvent({ kind: "degraded", reason: "breaker-open" });
    telemetry.onStoreEvent({ kind: "degraded", reason: "timeout" });
    telemetry.onStoreEvent({ kind: "late-reply" });
    telemetry.onStoreEvent({ kind: "deny-cache-hit" });
    telemetry.onStoreEvent({ kind: "store-error", error: Object.assign(new Error("down"), { code: "unavailable" }) });
    telemetry.onStoreEvent({ kind: "store-error", error: "weird" });
    telemetry.onStoreEvent({ kind: "round-trip", seconds: 0.0007 });
    let f = scrape();
    expect(sampleValue(f, "spoa_circuit_breaker_state")).toBe(2);
    expect(sampleValue(f, "spoa_degraded_decisions_total", { reason: "breaker-open" })).toBe(1);
    expect(sampleValue(f, "spoa_degraded_decisions_total", { reason: "timeout" })).toBe(1);
    expect(sampleValue(f, "spoa_degraded_decisions_total", { reason: "error" })).toBe(0);
    expect(sampleValue(f, "spoa_store_late_replies_total")).toBe(1);
    expect(sampleValue(f, "spoa_deny_cache_hits_total")).toBe(1);
    expect(sampleValue(f, "spoa_store_errors_total", { kind: "unavailable" })).toBe(1);
    expect(sampleValue(f, "spoa_store_errors_total", { kind: "other" })).toBe(1);
    expect(sampleValue(f, "spoa_store_duration_seconds_count")).toBe(1);
    telemetry.onStoreEvent({ kind: "breaker", state: "half-open", node: "", nodeState: "half-open" });
    f = scrape();
    expect(sampleValue(f, "spoa_circuit_breaker_state")).toBe(1);
  });

  test("a flood of protocol errors logs one line per kind per interval, then the suppressed count", () => {
    const { telemetry, lines, advance } = setup();
    for (let i = 0; i < 1000; i++) telemetry.agentEvents.disconnectSent?.(i, 4, "invalid frame");
    telemetry.agentEvents.disconnectSent?.(1, 3, "too big");
    expect(lines.filter((l) => l.msg === "protocol error: sent AGENT-DISCONNECT")).toHaveLength(2);
    advance(10_000);
    telemetry.agentEvents.disconnectSent?.(1, 4, "invalid frame");
    const last = lines.at(-1);
    expect(last).toMatchObject({ level: "warn", status: 4, suppressed: 999 });
  });

  test("normal disconnects and connection churn stay out of the info log", () => {
    const { telemetry, lines } = setup("info");
    telemetry.agentEvents.connectionOpened?.(1, "127.0.0.1:1");
    telemetry.agentEvents.disconnectReceived?.(1, 2, "a timeout occurred");
    telemetry.agentEvents.connectionClosed?.(1, "haproxy-disconnect");
    expect(lines).toEqual([]);
  });

  test("notifies_in_flight reads the in-flight count of the agent given to observeAgent()", () => {
    const { telemetry, scrape } = setup();
    const agent = { inFlight: 0 };
    telemetry.observeAgent(agent);
    expect(sampleValue(scrape(), "spoa_notifies_in_flight")).toBe(0);
    agent.inFlight = 17;
    expect(sampleValue(scrape(), "spoa_notifies_in_flight")).toBe(17);
  });

  test("valkey_reachable is declared only for a store with Valkey, and follows its PING", () => {
    const { telemetry, scrape } = setup();
    telemetry.observeStore({});
    expect(scrape().has("spoa_valkey_reachable")).toBe(false);
    let reachable: boolean | undefined;
    telemetry.observeStore({ valkeyReachable: () => reachable });
    expect(sampleValue(scrape(), "spoa_valkey_reachable")).toBe(1); // no answer yet is not an outage
    reachable = false;
    expect(sampleValue(scrape(), "spoa_valkey_reachable")).toBe(0);
  });

  test("the HTTP handler serves the metrics and readiness follows setListening and setDraining", async () => {
    const { telemetry } = setup();
    const readiness = telemetry.observeReadiness(() => ({ ok: true }));
    const ready = () => readiness.httpHandler(new Request("http://x/readyz"));
    expect((await ready()).status).toBe(503);
    readiness.setListening(true);
    expect((await ready()).status).toBe(200);
    readiness.setDraining(true);
    expect(await (await ready()).json()).toEqual({ status: "not ready", reason: "draining" });
    const metrics = await readiness.httpHandler(new Request("http://x/metrics"));
    expect(await metrics.text()).toContain("spoa_process_pid 4242\n");
  });

  test("close() writes pending suppressed counts", () => {
    const { telemetry, lines } = setup();
    telemetry.agentEvents.handlerFailed?.(1, new Error("a"));
    telemetry.agentEvents.handlerFailed?.(1, new Error("b"));
    telemetry.close();
    expect(lines.at(-1)).toMatchObject({ msg: "NOTIFY handler failed", suppressed: 1 });
  });
});
