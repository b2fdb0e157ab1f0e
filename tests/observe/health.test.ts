import { describe, expect, test } from "bun:test";
import { createHealth, type DecideVerdict } from "../../src/observe/health.ts";

describe("createHealth()", () => {
  test("readiness() is 503 until the listener is bound, then 200", () => {
    const health = createHealth();
    expect(health.readiness()).toEqual({ status: 503, body: { status: "not ready", reason: "not listening" } });
    health.setListening(true);
    expect(health.readiness()).toEqual({ status: 200, body: { status: "ready" } });
    health.setListening(false);
    expect(health.readiness().status).toBe(503);
  });

  test("readiness() follows canDecide and shows its reason", () => {
    let verdict: DecideVerdict = false;
    const health = createHealth({ canDecide: () => verdict });
    health.setListening(true);
    expect(health.readiness()).toEqual({ status: 503, body: { status: "not ready", reason: "cannot decide: store unavailable" } });
    verdict = { ok: false, reason: "valkey unreachable and failure policy is none" };
    expect(health.readiness().body.reason).toBe("valkey unreachable and failure policy is none");
    verdict = { ok: true };
    expect(health.readiness().status).toBe(200);
  });

  test("a throwing canDecide reports not ready with the error", () => {
    const health = createHealth({ canDecide: () => { throw new Error("boom"); } });
    health.setListening(true);
    expect(health.readiness()).toEqual({ status: 503, body: { status: "not ready", reason: "readiness check failed: boom" } });
  });

  test("draining makes readiness fail while liveness stays 200", () => {
    const health = createHealth();
    health.setListening(true);
    health.setDraining(true);
    expect(health.readiness().body.reason).toBe("draining");
    expect(health.liveness()).toEqual({ status: 200, body: { status: "ok" } });
  });
});
