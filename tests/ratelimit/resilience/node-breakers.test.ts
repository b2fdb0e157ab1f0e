import { describe, expect, test } from "bun:test";
import { type NodeBreakerChange, NodeBreakers } from "../../../src/ratelimit/resilience/node-breakers.ts";

function setup() {
  let now = 0;
  const changes: NodeBreakerChange[] = [];
  const breakers = new NodeBreakers({ failureThreshold: 3, clock: { nowUs: () => now }, onChange: (c) => changes.push(c) });
  return { breakers, changes, advanceMs: (ms: number) => (now += ms * 1000) };
}

describe("NodeBreakers", () => {
  test("a dead node opens only its own breaker: the other nodes keep taking calls", () => {
    const { breakers, changes } = setup();
    for (let i = 0; i < 3; i++) breakers.of("10.0.0.2:6379").failure();
    expect(breakers.of("10.0.0.2:6379").tryAcquire()).toBe(false);
    expect(breakers.of("10.0.0.1:6379").tryAcquire()).toBe(true);
    expect(breakers.of("10.0.0.3:6379").state).toBe("closed");
    expect(changes).toEqual([{ node: "10.0.0.2:6379", state: "open", worst: "open" }]);
    expect(breakers.notClosed()).toEqual(["10.0.0.2:6379"]);
  });

  test("the worst state is open while any node is open, closed once all recovered", () => {
    const { breakers, advanceMs } = setup();
    breakers.of("a").success();
    expect(breakers.worst).toBe("closed");
    for (let i = 0; i < 3; i++) breakers.of("b").failure();
    expect(breakers.worst).toBe("open");
    advanceMs(250);
    expect(breakers.worst).toBe("half-open");
    expect(breakers.of("b").tryAcquire()).toBe(true);
    breakers.of("b").success();
    expect(breakers.worst).toBe("closed");
    expect(breakers.notClosed()).toEqual([]);
  });

  test("the single node of a standalone store is one breaker, the same object every time", () => {
    const { breakers } = setup();
    expect(breakers.of("")).toBe(breakers.of(""));
    for (let i = 0; i < 3; i++) breakers.of("").failure();
    expect(breakers.notClosed()).toEqual(["valkey"]);
  });
});
