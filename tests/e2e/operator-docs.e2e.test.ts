// The operator docs' commands run as written (only the port numbers swapped for free ones):
// reading the metrics (docs/metrics.md) and a local Valkey without Docker (docs/valkey.md).
import { afterAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { type AgentProcess, startAgent } from "../helpers/agent-process.ts";
import { freePort, waitFor } from "../helpers/ports.ts";
import { clientIp, connectSpop } from "../helpers/spop-socket.ts";

const ROOT = resolve(import.meta.dir, "../..");
const PATH = `${resolve(ROOT, "node_modules/.bin")}:${process.env.PATH ?? ""}`;
const cleanups: (() => Promise<unknown> | unknown)[] = [];

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/** The fenced blocks of `lang` in the section of `doc` that starts with `heading`. */
function blocks(doc: string, heading: string, lang: string): string[] {
  const text = readFileSync(resolve(ROOT, doc), "utf8");
  const start = text.indexOf(`## ${heading}`);
  expect(start).toBeGreaterThanOrEqual(0);
  const end = text.indexOf("\n## ", start + 3);
  const section = text.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(new RegExp("```" + lang + "\\n([\\s\\S]*?)```", "g"))].map((m) => m[1]);
}

function sh(command: string, timeoutMs = 20_000) {
  const run = Bun.spawnSync(["bash", "-c", command], { cwd: ROOT, env: { PATH, HOME: process.env.HOME ?? "/tmp" }, timeout: timeoutMs });
  return { code: run.exitCode, stdout: run.stdout.toString(), stderr: run.stderr.toString() };
}

describe("docs/metrics.md: Reading the metrics", () => {
  test("the curl line shows the decisions, and every metric the PromQL uses is exported", async () => {
    const metricsPort = await freePort();
    const spopPort = await freePort();
    const agent: AgentProcess = await startAgent({ runtime: "bun", args: ["serve", "--listen", `127.0.0.1:${spopPort}`, "--metrics", `127.0.0.1:${metricsPort}`] });
    cleanups.push(() => agent.stop());
    const socket = await connectSpop(spopPort);
    cleanups.push(() => socket.close());
    for (let i = 0; i < 40; i++) await socket.check(clientIp(7));

    const [curl] = blocks("docs/metrics.md", "Reading the metrics", "sh");
    const run = sh(curl.trim().replaceAll("12346", String(metricsPort)));
    expect(run.code).toBe(0);
    const count = (result: string) => Number(new RegExp(`^spoa_decisions_total\\{limit="default",result="${result}"\\} (\\d+)$`, "m").exec(run.stdout)?.[1]);
    // A burst of 21 passes at once; the rest of the 40 pass only as time refills the bucket.
    expect(count("allow")).toBeGreaterThanOrEqual(21);
    expect(count("allow") + count("deny")).toBe(40);
    expect(run.stdout).toMatch(/^spoa_circuit_breaker_state 0$/m);

    const exported = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    const [promql] = blocks("docs/metrics.md", "Reading the metrics", "promql");
    const used = new Set([...promql.matchAll(/\bspoa_[a-z_]+/g)].map((m) => m[0]));
    expect(used.size).toBeGreaterThan(3);
    for (const name of used) expect({ name, exported: new RegExp(`^(# TYPE )?${name}\\b`, "m").test(exported) }).toEqual({ name, exported: true });
  }, 60_000);
});

describe("docs/valkey.md: A local Valkey without Docker", () => {
  test("installs from bookworm-backports; the foreground valkey-server line and the probe line work", async () => {
    const [install, run, use] = blocks("docs/valkey.md", "A local Valkey without Docker", "sh");
    expect(install).toContain("bookworm-backports");
    expect(install).toContain("valkey-server");
    const port = String(await freePort());
    const server = Bun.spawn(["bash", "-c", `exec ${run.trim().replaceAll("6379", port)}`], { cwd: "/tmp", env: { PATH }, stdout: "pipe", stderr: "pipe" });
    cleanups.push(async () => {
      server.kill("SIGKILL");
      await server.exited;
    });
    await waitFor("valkey-server from the doc", () => sh(`valkey-cli -p ${port} ping`).stdout.trim() === "PONG");
    const probe = sh(use.split("\n")[0].replaceAll("6379", port), 40_000);
    expect(probe.code).toBe(0);
    expect(probe.stdout).toContain(`Valkey probe: OK (standalone redis://127.0.0.1:${port})`);
  }, 60_000);
});
