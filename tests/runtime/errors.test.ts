// isNormalCloseError() decides whether closed() carries an error; RST/EOF/EPIPE must not.
import { describe, expect, test } from "bun:test";
import { isNormalCloseError, RuntimeAdapterError } from "../../src/runtime/errors.ts";

const withCode = (code: string) => Object.assign(new Error(code), { code });
const named = (name: string) => Object.assign(new Error(name), { name });

describe("isNormalCloseError()", () => {
  test("treats Bun's ECONNRESET and EPIPE errors as normal closes", () => {
    expect(isNormalCloseError(withCode("ECONNRESET"))).toBe(true);
    expect(isNormalCloseError(withCode("EPIPE"))).toBe(true);
  });

  test("treats Deno's ConnectionReset, BrokenPipe and BadResource errors as normal closes", () => {
    for (const name of ["ConnectionReset", "BrokenPipe", "BadResource"]) expect(isNormalCloseError(named(name))).toBe(true);
  });

  test("keeps other errors and non-errors as failures", () => {
    expect(isNormalCloseError(withCode("EMFILE"))).toBe(false);
    expect(isNormalCloseError(new RuntimeAdapterError("listen-failed", "x"))).toBe(false);
    expect(isNormalCloseError("ECONNRESET")).toBe(false);
  });
});
