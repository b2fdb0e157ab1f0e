// Each runtime dials Valkey with its own sockets (src/runtime/dial.ts): Bun in-process, Deno as
// a subprocess running tests/runtime/dial-probe.ts; replies arrive in order, a 2 MiB write
// (more than one socket write takes) arrives whole, close() is reported, a refused port rejects.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { resolve } from "node:path";
import { rmSync } from "node:fs";
import { loadDialer } from "../../src/runtime/dial.ts";
import { startValkey, type ValkeyProcess } from "../helpers/valkey.ts";
import { dialProbe } from "./dial-probe.ts";

const ROOT = resolve(import.meta.dir, "../..");
const DENO = resolve(ROOT, "node_modules/.bin/deno");
const EXPECTED = "+PONG\r\n+OK\r\n:2097152\r\n";

let server: ValkeyProcess;
beforeAll(async () => {
  server = await startValkey();
});
afterAll(async () => {
  await server?.stop();
  rmSync(server.dir, { recursive: true, force: true });
});

describe("loadDialer()", () => {
  test("Bun: Bun.connect pipelines replies in order, writes 2 MiB whole, reports close, rejects a refused port", async () => {
    expect(await dialProbe(server.port)).toEqual({ runtime: "bun", replies: EXPECTED, closedWith: "clean", refused: true });
  });

  test("Deno: Deno.connect does the same", async () => {
    const child = Bun.spawn([DENO, "run", "-A", "tests/runtime/dial-probe.ts", String(server.port)], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
    const [out, err, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
    if (code !== 0) throw new Error(`dial-probe exited ${code}: ${err}`);
    expect(JSON.parse(out)).toEqual({ runtime: "deno", replies: EXPECTED, closedWith: "clean", refused: true });
  }, 30_000);

  test("Node: none of its own (the store dials with node:net)", async () => {
    expect(await loadDialer("node")).toBeUndefined();
  });
});
