// Which DISCONNECT status a codec or engine call fails with, for table-style assertions.
import { SpopError } from "../../src/spop/errors.ts";

/** The SpopError status `fn` throws, or undefined when it returns; other errors propagate. */
export function statusOf(fn: () => unknown): number | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof SpopError) return error.status;
    throw error;
  }
  return undefined;
}
