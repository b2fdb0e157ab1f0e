import { describe, expect, test } from "bun:test";
import { safeEvents } from "../../src/agent/events.ts";

describe("safeEvents()", () => {
  test("fills missing hooks with no-ops", () => {
    const events = safeEvents(undefined);
    expect(() => events.frameReceived(3)).not.toThrow();
    expect(() => events.connectionClosed(1, "drained")).not.toThrow();
  });

  test("calls provided hooks with their arguments and their own this", () => {
    const seen: unknown[] = [];
    const hooks = {
      prefix: "x",
      disconnectSent(this: { prefix: string }, id: number, status: number, reason: string) {
        seen.push([this.prefix, id, status, reason]);
      },
    };
    safeEvents(hooks).disconnectSent(4, 3, "frame is too big");
    expect(seen).toEqual([["x", 4, 3, "frame is too big"]]);
  });

  test("keeps a throwing hook from reaching the caller", () => {
    const events = safeEvents({
      handlerFailed() {
        throw new Error("observer bug");
      },
    });
    expect(() => events.handlerFailed(1, new Error("x"))).not.toThrow();
  });
});
