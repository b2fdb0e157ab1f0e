import { describe, expect, test } from "bun:test";
import { Fingerprinter } from "../../../src/ratelimit/memory/key-hash.ts";
import { TatTable } from "../../../src/ratelimit/memory/tat-table.ts";
import { rng } from "../../helpers/rng.ts";

const fingerprinter = new Fingerprinter(17);
/** The table is keyed by fingerprints; these tests name keys by text. */
function fp(key: string): Int32Array {
  fingerprinter.ofKey(key);
  return fingerprinter.out.slice();
}

describe("TatTable", () => {
  test("agrees with a Map model under random writes, reads and sweeps, across deletions and backward shifts", () => {
    const table = new TatTable({ maxKeys: 100_000, seed: 3 });
    const model = new Map<string, number>();
    const next = rng(99);
    const pad = "p".repeat(180);
    let now = 1_000;
    for (let op = 0; op < 40_000; op++) {
      const key = `${next(3) === 0 ? "ключ" : "k"}${next(12_000)}${next(2) === 0 ? pad : ""}`;
      const r = next(10);
      if (r < 6) {
        const tat = now + 1 + next(60_000);
        table.write(fp(key), tat, now);
        model.set(key, tat);
      } else if (r < 9) {
        const seen = table.get(fp(key));
        const expected = model.get(key);
        // Swept keys are gone from the table; a key in the table always has the model's value.
        if (seen !== undefined) expect(seen).toBe(expected!);
        else if (expected !== undefined) expect(expected).toBeLessThanOrEqual(now);
      } else {
        now += next(300);
        table.sweep(now, 50);
      }
    }
    let live = 0;
    for (const [key, tat] of model) {
      const seen = table.get(fp(key));
      if (tat > now) {
        live++;
        expect(seen).toBe(tat);
      } else if (seen !== undefined) {
        expect(seen).toBe(tat);
      }
    }
    expect(table.size).toBeGreaterThanOrEqual(live);
  });

  test("an absent key whose TAT is not after now is not inserted; a present one is updated", () => {
    const table = new TatTable({ maxKeys: 10, seed: 1 });
    table.write(fp("a"), 100, 100);
    expect(table.get(fp("a"))).toBeUndefined();
    table.write(fp("a"), 200, 100);
    table.write(fp("a"), 50, 100);
    expect(table.get(fp("a"))).toBe(50);
  });

  test("never holds more than maxKeys and evicts an entry with a small TAT", () => {
    const table = new TatTable({ maxKeys: 64, seed: 5 });
    for (let i = 0; i < 64; i++) table.write(fp(`k${i}`), 1_000 + i, 0);
    table.write(fp("newest"), 10_000, 0);
    expect(table.size).toBe(64);
    expect(table.get(fp("newest"))).toBe(10_000);
    const evicted = Array.from({ length: 64 }, (_, i) => `k${i}`).filter((k) => table.get(fp(k)) === undefined);
    expect(evicted.length).toBe(1);
  });

  test("rejects a maxKeys below 1 with RangeError", () => {
    expect(() => new TatTable({ maxKeys: 0 })).toThrow(RangeError);
  });
});
