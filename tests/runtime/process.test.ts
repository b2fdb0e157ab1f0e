// src/runtime/process.ts under Bun in-process, and under both runtimes through process-probe.ts
// (spawnWorker re-runs this same program via selfCommand(); onSignal gets SIGTERM).
import { describe, expect, test } from "bun:test";
import { resolve } from "node:path";
import { args, env, hostProcess, memoryUsage, pid, selfCommand } from "../../src/runtime/process.ts";

const ROOT = resolve(import.meta.dir, "../..");
const PROBE = "tests/runtime/process-probe.ts";
const COMMANDS = {
  bun: [resolve(ROOT, "node_modules/.bin/bun"), PROBE],
  deno: [resolve(ROOT, "node_modules/.bin/deno"), "run", "--allow-env", "--allow-read", "--allow-run", PROBE],
} as const;

async function run(runtime: keyof typeof COMMANDS, extra: readonly string[]): Promise<string> {
  const child = Bun.spawn([...COMMANDS[runtime], ...extra], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  const timer = setTimeout(() => child.kill(9), 30_000);
  try {
    const [out, err, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
    if (code !== 0) throw new Error(`probe exited ${code}: ${err}`);
    return out;
  } finally {
    clearTimeout(timer);
  }
}

describe("process helpers under bun (in-process)", () => {
  test("pid(), env(), memoryUsage() and args() describe this process", () => {
    expect(pid()).toBe(process.pid);
    expect(env().PATH).toBe(process.env.PATH);
    const usage = memoryUsage();
    expect(usage.rss).toBeGreaterThan(0);
    expect(usage.heapUsed).toBeGreaterThan(0);
    expect(args()).toEqual(process.argv.slice(2));
    expect(hostProcess().runtime).toBe("bun");
  });

  test("selfCommand() is the bun executable followed by the entry script", () => {
    const command = selfCommand();
    expect(command[0]).toBe(process.execPath);
    expect(command.at(-1)).toBe(Bun.main);
  });
});

for (const runtime of ["bun", "deno"] as const) {
  describe(`process helpers under ${runtime}`, () => {
    test("spawnWorker() re-runs this program with the args and extra env, and reports its exit code", async () => {
      const out = await run(runtime, ["parent", "x"]);
      expect(out).toContain(`child runtime=${runtime} args=["x"] env=42\n`);
      expect(out).toContain("parent exit=7\n");
    }, 40_000);

    test("onSignal() calls the handler on SIGTERM instead of dying", async () => {
      const child = Bun.spawn([...COMMANDS[runtime], "signal"], { cwd: ROOT, stdout: "pipe", stderr: "inherit" });
      try {
        const reader = child.stdout.getReader();
        let text = "";
        while (!text.includes("ready")) {
          const { value, done } = await reader.read();
          if (done) break;
          text += new TextDecoder().decode(value);
        }
        child.kill("SIGTERM");
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          text += new TextDecoder().decode(value);
        }
        expect(text).toBe("ready\ngot SIGTERM\n");
        expect(await child.exited).toBe(0);
      } finally {
        child.kill(9);
      }
    }, 40_000);
  });
}
