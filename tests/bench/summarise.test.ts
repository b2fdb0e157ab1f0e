import { describe, expect, test } from "bun:test";
import { keyChooser } from "../../bench/load/run.ts";
import { selfTimes } from "../../bench/profile/summarise.ts";

const frame = (functionName: string, url = "", lineNumber = 0) => ({ functionName, url, lineNumber });

describe("selfTimes", () => {
  test("charges each sample's time delta to its node and merges nodes of the same function", () => {
    const profile = {
      startTime: 0,
      endTime: 100,
      nodes: [
        { id: 1, callFrame: frame("(root)") },
        { id: 2, callFrame: frame("decode", "file:///work/main/src/spop/messages.ts", 22) },
        { id: 3, callFrame: frame("decode", "file:///work/main/src/spop/messages.ts", 22) },
        { id: 4, callFrame: frame("") },
      ],
      samples: [2, 3, 4, 2],
      timeDeltas: [0, 10, 30, 60],
    };
    const rows = selfTimes(profile);
    // Sample i lasts until sample i + 1: decode gets 10 + 30 (+ 0 for the last sample), the anonymous one 60.
    expect(rows[0]).toEqual({ function: "(anonymous)", location: "", selfMs: 0.06, selfShare: 0.6 });
    expect(rows[1]).toEqual({ function: "decode", location: "src/spop/messages.ts:23", selfMs: 0.04, selfShare: 0.4 });
  });

  test("falls back to hit counts when the profile has no samples", () => {
    const rows = selfTimes({
      startTime: 0,
      endTime: 1000,
      nodes: [{ id: 1, callFrame: frame("a"), hitCount: 3 }, { id: 2, callFrame: frame("b"), hitCount: 1 }],
    });
    expect(rows.map((r) => [r.function, r.selfShare])).toEqual([["a", 0.75], ["b", 0.25]]);
  });
});

describe("keyChooser", () => {
  test("is deterministic for a seed and stays within the key range", () => {
    const a = keyChooser(1000, 7);
    const b = keyChooser(1000, 7);
    const seq = Array.from({ length: 500 }, () => a());
    expect(Array.from({ length: 500 }, () => b())).toEqual(seq);
    expect(seq.every((k) => k >= 0 && k < 1000)).toBe(true);
    expect(new Set(seq).size).toBeGreaterThan(300);
  });
});
