import { describe, expect, test } from "bun:test";
import { KeyArena, MAX_KEY_LENGTH } from "../../../src/ratelimit/memory/key-arena.ts";

describe("KeyArena", () => {
  test("stores Latin-1 and wide keys and compares them exactly", () => {
    const arena = new KeyArena({ onMove: () => {} });
    const keys = ["", "a", "abcd", "é\u00ff", "ключ", "😀x"];
    const offsets = keys.map((k, i) => arena.append(k, i));
    keys.forEach((k, i) => {
      expect(arena.keyAt(offsets[i])).toBe(k);
      expect(arena.equals(offsets[i], k)).toBe(true);
      expect(arena.equals(offsets[i], `${k}!`)).toBe(false);
    });
    expect(arena.equals(offsets[4], "ключа".slice(0, 4))).toBe(true);
    expect(arena.equals(offsets[2], "abce")).toBe(false);
  });

  test("cleaning moves live records off the most-garbage page, one page per page opened, losing none", () => {
    const owners = new Map<number, number>();
    let moves = 0;
    const arena = new KeyArena({ onMove: (owner, offset) => (moves++, owners.set(owner, offset)) });
    const key = (i: number) => `${i}:${"x".repeat(1_000)}`; // ~1 KiB records, ~258 per 256 KiB page
    for (let i = 0; i < 3_000; i++) owners.set(i, arena.append(key(i), i));
    const before = arena.pageCount;
    expect(before).toBe(12);
    expect(moves).toBe(0);
    const live = new Set<number>();
    for (let i = 0; i < 3_000; i++) {
      if (i % 4 === 0) live.add(i);
      else arena.free(owners.get(i)!);
    }
    let worstMovesPerAppend = 0;
    for (let i = 3_000; i < 6_000; i++) {
      const m = moves;
      owners.set(i, arena.append(key(i), i));
      live.add(i);
      worstMovesPerAppend = Math.max(worstMovesPerAppend, moves - m);
      if (i % 3 === 0) {
        arena.free(owners.get(i)!); // keep producing garbage while appending
        live.delete(i);
      }
    }
    // Without cleaning, 6,000 records would take 24 pages; the garbage share stays bounded.
    expect(arena.pageCount).toBeLessThan(20);
    expect(arena.garbageBytes * 2).toBeLessThan(arena.usedBytes);
    expect(worstMovesPerAppend).toBeLessThanOrEqual(258); // at most one page's records per append
    for (const i of live) expect(arena.keyAt(owners.get(i)!)).toBe(key(i));
  });

  test("rejects a key longer than one page can hold with RangeError", () => {
    const arena = new KeyArena({ onMove: () => {} });
    expect(() => arena.append("x".repeat(MAX_KEY_LENGTH + 1), 0)).toThrow(RangeError);
  });
});
