import { describe, expect, test } from "bun:test";
import { type AgentEvents, safeEvents } from "../../src/agent/events.ts";

// Every hook name, checked by the compiler: a hook added to AgentEvents must be listed here.
const HOOKS: { readonly [K in keyof AgentEvents]-?: true } = {
  connectionOpened: true,
  connectionClosed: true,
  helloReceived: true,
  frameReceived: true,
  frameSent: true,
  disconnectSent: true,
  disconnectReceived: true,
  handlerFailed: true,
  readPaused: true,
};
const HOOK_NAMES = Object.keys(HOOKS) as (keyof AgentEvents)[];

describe("safeEvents()", () => {
  test("fills every missing hook with a function that does nothing, and keeps the provided one", () => {
    const frames: number[] = [];
    for (const given of [undefined, {}, { frameSent: (type: number) => frames.push(type) }] as AgentEvents[]) {
      const events = safeEvents(given);
      expect(Object.keys(events).sort()).toEqual([...HOOK_NAMES].sort());
      for (const name of HOOK_NAMES) {
        const hook = events[name] as (...args: unknown[]) => unknown;
        expect(typeof hook).toBe("function");
        if (given?.[name] === undefined) expect(hook(1, 2, 3)).toBeUndefined();
      }
      events.frameSent(103);
    }
    // Only the one set of events that had frameSent saw the call.
    expect(frames).toEqual([103]);
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
