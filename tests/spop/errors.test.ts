import { describe, expect, test } from "bun:test";
import { invalidFrame, SPOP_ERROR_CODES, SpopError } from "../../src/spop/errors.ts";
import { DISCONNECT_MESSAGES } from "../../src/spop/types.ts";

describe("SpopError", () => {
  test("carries the status, its metric code and the cause", () => {
    const cause = new Error("inner");
    const e = new SpopError(3, "too big", { cause });
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe("SpopError");
    expect([e.status, e.code, e.message]).toEqual([3, "frame_too_big", "too big"]);
    expect(e.cause).toBe(cause);
  });

  test("every DISCONNECT status has a distinct snake_case code", () => {
    const statuses = Object.keys(DISCONNECT_MESSAGES).map(Number);
    const codes = statuses.map((s) => SPOP_ERROR_CODES[s as keyof typeof SPOP_ERROR_CODES]);
    expect(new Set(codes).size).toBe(statuses.length);
    for (const c of codes) expect(c).toMatch(/^[a-z]+(_[a-z]+)*$/);
    expect(new SpopError(5, "x").code).toBe("no_version");
    expect(new SpopError(10, "x").code).toBe("fragmentation_not_supported");
  });

  test("invalidFrame() builds a status-4 error with the std message prefix", () => {
    const e = invalidFrame("payload truncated");
    expect([e.status, e.code, e.message]).toEqual([4, "invalid_frame", "Cannot decode frame: payload truncated"]);
  });
});
