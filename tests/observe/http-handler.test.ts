import { describe, expect, test } from "bun:test";
import { createHealth } from "../../src/observe/health.ts";
import { createObserveHandler } from "../../src/observe/http-handler.ts";
import { Registry } from "../../src/observe/metrics.ts";
import { parsePrometheus, sampleValue } from "./prom-parser.ts";

function setup() {
  const registry = new Registry();
  registry.counter({ name: "spoa_test_total", help: "t" }).inc(4);
  const health = createHealth();
  return { health, handler: createObserveHandler({ registry, health }) };
}

const get = (path: string, method = "GET") => new Request(`http://127.0.0.1:9100${path}`, { method });

describe("createObserveHandler()", () => {
  test("GET /metrics answers Prometheus text with the 0.0.4 content type", async () => {
    const response = await setup().handler(get("/metrics"));
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    expect(sampleValue(parsePrometheus(await response.text()), "spoa_test_total")).toBe(4);
  });

  test("GET /healthz is 200 and /readyz flips with the listening state", async () => {
    const { handler, health } = setup();
    expect((await handler(get("/healthz"))).status).toBe(200);
    const before = await handler(get("/readyz"));
    expect(before.status).toBe(503);
    expect(await before.json()).toEqual({ status: "not ready", reason: "not listening" });
    health.setListening(true);
    const after = await handler(get("/readyz?verbose=1"));
    expect(after.status).toBe(200);
    expect(after.headers.get("content-type")).toBe("application/json");
    expect(await after.json()).toEqual({ status: "ready" });
  });

  test("unknown paths are 404 and other methods 405 with Allow: GET", async () => {
    const { handler } = setup();
    expect((await handler(get("/"))).status).toBe(404);
    expect((await handler(get("/metrics/extra"))).status).toBe(404);
    const post = await handler(get("/metrics", "POST"));
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET");
  });
});
