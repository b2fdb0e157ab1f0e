// A newcomer's first 429: `npm run demo` prints what the README shows (ports aside), and the
// README's by-hand walkthrough ("Point HAProxy at it") works as written.
import { afterAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { httpRequest } from "../helpers/http-client.ts";
import { freePort, waitFor } from "../helpers/ports.ts";

const ROOT = resolve(import.meta.dir, "../..");
const README = readFileSync(resolve(ROOT, "README.md"), "utf8");
const PATH = `${resolve(ROOT, "node_modules/.bin")}:${process.env.PATH ?? ""}`;
const children: { kill(signal?: number | NodeJS.Signals): void; exited: Promise<number> }[] = [];

afterAll(async () => {
  for (const child of children) {
    child.kill("SIGTERM");
    await Promise.race([child.exited, Bun.sleep(5_000)]);
    child.kill("SIGKILL");
  }
});

/** Ports and the HAProxy build differ per run and machine; everything else must not. */
const normalise = (text: string) => text.trim().replace(/127\.0\.0\.1:\d+/g, "127.0.0.1:PORT").replace(/^HAProxy \S+ \([^)]*\)/m, "HAProxy V (PATH)");

/** The README section's fenced blocks. */
function readmeBlocks(heading: string): string[] {
  const start = README.indexOf(`## ${heading}`);
  const section = README.slice(start, README.indexOf("\n## ", start + 3));
  return [...section.matchAll(/```[a-z]*\n([\s\S]*?)```/g)].map((m) => m[1]);
}

describe("npm run demo", () => {
  test("shows 10 × 200 then 5 × 429 with the rate-limit headers, exactly as the README prints it", () => {
    const run = Bun.spawnSync(["npm", "run", "--silent", "demo"], { cwd: ROOT, env: { PATH, HOME: process.env.HOME ?? "/tmp" }, timeout: 90_000 });
    const output = run.stdout.toString();
    expect(run.stderr.toString()).toBe("");
    expect(run.exitCode).toBe(0);
    expect(output).toMatch(/^ {2}200: 10$/m);
    expect(output).toMatch(/^ {2}429: 5$/m);
    expect(output).toMatch(/^ {2}429 {2}Retry-After: 1 {3}RateLimit: "default";r=0;t=\d+/m);
    expect(output).toMatch(/^ {2}200 {2}RateLimit: "default";r=9;/m);
    const [shown] = readmeBlocks("See a 429 in one command");
    expect(normalise(shown.replace(/^\$ npm run --silent demo\n/, ""))).toBe(normalise(output));
  }, 120_000);
});

describe("README: Point HAProxy at it", () => {
  test("the three commands, run as written (ports swapped for free ones), answer 5 × 200 and 3 × 429", async () => {
    const [agentCmd, haproxyCmd, curlCmd] = readmeBlocks("Point HAProxy at it").map((b) => b.trim());
    const [spop, frontend] = [await freePort(), await freePort()];
    const ports = (cmd: string) => cmd.replaceAll("12345", String(spop)).replaceAll("8080", String(frontend));
    const spawn = (cmd: string, env: Record<string, string> = {}) => {
      // `env` takes the README's VAR=value prefixes, so exec replaces bash with the command itself.
      const child = Bun.spawn(["bash", "-c", `exec env ${cmd}`], { cwd: ROOT, env: { PATH, HOME: process.env.HOME ?? "/tmp", ...env }, stdout: "pipe", stderr: "pipe" });
      children.push(child);
      return child;
    };
    // npm start listens on the default address; the test moves it (and metrics) out of the way.
    const agent = spawn(agentCmd, { SPOE_ADDR: `127.0.0.1:${spop}`, METRICS_ADDR: "off" });
    let agentOut = "";
    void (async () => {
      for await (const chunk of agent.stdout as unknown as AsyncIterable<Uint8Array>) agentOut += new TextDecoder().decode(chunk);
    })();
    await waitFor("the agent", () => agentOut.includes('"msg":"listening"'), 20_000);
    // npm runs the agent as its grandchild: stop that process itself too, by the pid it logged.
    const agentPid = Number(/"msg":"listening"[^\n]*"pid":(\d+)/.exec(agentOut)?.[1]);
    if (Number.isInteger(agentPid)) children.push({
      kill: (signal) => {
        try {
          process.kill(agentPid, signal);
        } catch {
          // already gone with npm
        }
      },
      exited: Bun.sleep(500).then(() => 0),
    });
    spawn(ports(haproxyCmd));
    // Ready when a request from another client address (its own budget) comes back through the agent.
    await waitFor("HAProxy", async () => (await httpRequest({ port: frontend, localAddress: "127.0.0.2" }, 2_000)).headers.has("ratelimit"), 20_000);
    const run = Bun.spawnSync(["bash", "-c", ports(curlCmd)], { cwd: ROOT, env: { PATH }, timeout: 30_000 });
    const counts = run.stdout.toString().trim().split("\n").map((l) => l.trim()).sort();
    expect(counts).toEqual(["3 429", "5 200"]);
    expect(README).toContain("prints `5 200` and `3 429`");
  }, 90_000);
});
