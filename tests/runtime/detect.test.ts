// detectRuntime() and loadAdapter() under bun; the deno side is asserted in deno.test.ts.
import { describe, expect, test } from "bun:test";
import { detectRuntime, loadAdapter } from "../../src/runtime/detect.ts";

describe("detectRuntime()", () => {
  test("returns bun under bun, where node:process also exists", () => {
    expect(detectRuntime()).toBe("bun");
  });
});

describe("loadAdapter()", () => {
  test("loads the Bun adapter by default under bun", async () => {
    expect((await loadAdapter()).name).toBe("bun");
  });

  test("imports the Deno adapter under bun without running any Deno code", async () => {
    expect((await loadAdapter("deno")).name).toBe("deno");
  });

  test("imports the Node adapter under bun without running any of it", async () => {
    expect((await loadAdapter("node")).name).toBe("node");
  });
});
