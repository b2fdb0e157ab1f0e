import { describe, expect, test } from "bun:test";
import { keySlot, SLOTS } from "../../../src/ratelimit/valkey/slot.ts";

describe("keySlot", () => {
  test("matches the cluster specification's CRC16 (XMODEM) and Valkey's CLUSTER KEYSLOT values", () => {
    expect(keySlot("123456789")).toBe(0x31c3); // the CRC16/XMODEM check value
    expect(keySlot("foo")).toBe(12182);
    expect(keySlot("bar")).toBe(5061);
  });

  test("only the first non-empty hash tag is hashed", () => {
    expect(keySlot("rl:{203.0.113.7}:default")).toBe(keySlot("203.0.113.7"));
    expect(keySlot("{user1000}.following")).toBe(keySlot("{user1000}.followers"));
    expect(keySlot("a{}b")).toBe(keySlot("a{}b"));
    expect(keySlot("a{}b")).not.toBe(keySlot("b"));
  });

  test("every slot is in range", () => {
    for (let i = 0; i < 1000; i++) {
      const slot = keySlot(`rl:{10.0.${i >> 8}.${i & 255}}:x`);
      expect(slot).toBeGreaterThanOrEqual(0);
      expect(slot).toBeLessThan(SLOTS);
    }
  });
});
