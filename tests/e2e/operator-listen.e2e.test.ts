// A taken SPOP or metrics address, under bun, deno and the compiled binary: one line on stderr
// naming the address, the errno and what to do, exit code 1, and no stack trace unless
// LOG_LEVEL=debug. docs/troubleshooting.md quotes these lines.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createServer, type Server } from "node:net";
import type { AgentRuntime } from "../helpers/agent-process.ts";
import { freePort } from "../helpers/ports.ts";
import { runCli } from "../helpers/run-cli.ts";

const RUNTIMES: readonly AgentRuntime[] = ["bun", "deno", "binary"];
let squatter: Server;
let taken: number;

beforeAll(async () => {
  taken = await freePort();
  squatter = createServer();
  await new Promise<void>((resolveListen) => squatter.listen(taken, "127.0.0.1", resolveListen));
});

afterAll(() => {
  squatter.close();
});

async function runAgent(runtime: AgentRuntime, args: readonly string[], env: Record<string, string> = {}) {
  const run = await runCli(runtime, ["serve", ...args], env);
  return { ...run, lines: run.stderr.split("\n").filter((line) => line.trim() !== "") };
}

for (const runtime of RUNTIMES) {
  describe(`a taken address under ${runtime}`, () => {
    test("SPOP: one line with the address, EADDRINUSE and what to do; exit 1; no stack", async () => {
      const run = await runAgent(runtime, ["--listen", `127.0.0.1:${taken}`, "--metrics", "off"]);
      expect(run.code).toBe(1);
      expect(run.lines).toHaveLength(1);
      const line = run.lines[0];
      expect(line).toContain(`cannot listen on 127.0.0.1:${taken} for SPOP`);
      expect(line).toContain("EADDRINUSE");
      expect(line).toContain("--listen");
      expect(line).toContain("SPOE_ADDR");
      expect(run.stderr).not.toMatch(/\n\s+at /);
    }, 30_000);

    test("metrics: one line with the address, EADDRINUSE and what to do; exit 1; no stack", async () => {
      const spop = await freePort();
      const run = await runAgent(runtime, ["--listen", `127.0.0.1:${spop}`, "--metrics", `127.0.0.1:${taken}`]);
      expect(run.code).toBe(1);
      expect(run.lines).toHaveLength(1);
      const line = run.lines[0];
      expect(line).toContain(`cannot listen on 127.0.0.1:${taken} for metrics`);
      expect(line).toContain("EADDRINUSE");
      expect(line).toContain("METRICS_ADDR");
      expect(run.stderr).not.toMatch(/\n\s+at /);
    }, 30_000);

    test("LOG_LEVEL=debug adds the stack", async () => {
      const run = await runAgent(runtime, ["--listen", `127.0.0.1:${taken}`, "--metrics", "off"], { LOG_LEVEL: "debug" });
      expect(run.code).toBe(1);
      expect(run.stderr).toContain("EADDRINUSE");
      expect(run.stderr).toMatch(/\n\s+at /);
    }, 30_000);
  });
}
