// Every shell command in the README's ```sh blocks runs in a test: here, or in the test named
// for it (the library and container sections belong to their own tests). A new command that no
// test runs fails the first test below. Agents start on free ports (SPOE_ADDR; metrics off),
// are seen listening, and are stopped.
import { afterAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { freePort, waitFor } from "../helpers/ports.ts";

const ROOT = resolve(import.meta.dir, "../..");
const README = readFileSync(resolve(ROOT, "README.md"), "utf8");
const PATH = `${resolve(ROOT, "node_modules/.bin")}:${process.env.PATH ?? ""}`;
/** Sections whose code other tests own (the library snippet, container and deployment commands). */
const ELSEWHERE = /^## (Build your own agent|.*[Cc]ontainer.*|.*[Dd]eploy.*)$/;

/** Each command of the README's sh blocks (comments dropped), with its section. */
function readmeCommands(): { section: string; command: string }[] {
  const commands: { section: string; command: string }[] = [];
  let section = "";
  for (const part of README.split(/^(?=## )/m)) {
    section = part.split("\n")[0];
    if (ELSEWHERE.test(section)) continue;
    for (const block of part.matchAll(/```sh\n([\s\S]*?)```/g)) {
      for (const line of block[1].split("\n")) {
        const command = line.replace(/\s+#.*$/, "").trim();
        if (command !== "") commands.push({ section, command });
      }
    }
  }
  return commands;
}

const file = (path: string) => readFileSync(resolve(ROOT, path), "utf8");

/** Commands another test runs as written: the test file and the text that shows it does. */
const RUN_ELSEWHERE: Readonly<Record<string, () => void>> = {
  "npm run demo": () => expect(file("tests/e2e/operator-demo.e2e.test.ts")).toContain(`["npm", "run", "--silent", "demo"]`),
  // The suite cannot run itself; .ci/run runs exactly this on a fresh machine.
  "npm test": () => {
    expect(JSON.parse(file("package.json")).scripts.test).toBe("bash scripts/test.sh");
    expect(file(".ci/run")).toContain("exec npm test");
  },
};
/** The walkthrough's three blocks run, ports swapped, in operator-demo.e2e.test.ts. */
const WALKTHROUGH = "## Point HAProxy at it";
/** Commands that start the agent: each runs here until it listens. `npm install` runs in tests/scripts/lockfile.test.ts. */
const SERVES: readonly string[] = ["npm start", "npx deno task start", "npx deno run -A --unstable-net src/cli/main.ts serve"];

const children: { kill(signal?: number | NodeJS.Signals): void }[] = [];
afterAll(() => {
  for (const child of children) child.kill("SIGKILL");
});

async function listens(command: string): Promise<string> {
  const port = await freePort();
  const child = Bun.spawn(["bash", "-c", `exec ${command}`], {
    cwd: ROOT,
    env: { PATH, HOME: process.env.HOME ?? "/tmp", SPOE_ADDR: `127.0.0.1:${port}`, METRICS_ADDR: "off" },
    stdout: "pipe",
    stderr: "pipe",
  });
  children.push(child);
  let out = "";
  void (async () => {
    for await (const chunk of child.stdout as unknown as AsyncIterable<Uint8Array>) out += new TextDecoder().decode(chunk);
  })();
  try {
    await waitFor(`${command} to listen`, () => out.includes('"msg":"listening"'), 60_000);
  } finally {
    // npm and deno task run the agent as a grandchild: stop it by the pid it logged, then the rest.
    const pid = Number(/"msg":"listening"[^\n]*"pid":(\d+)/.exec(out)?.[1]);
    if (Number.isInteger(pid)) {
      try {
        process.kill(pid, "SIGTERM");
      } catch {
        // already gone
      }
    }
    child.kill("SIGTERM");
    await Promise.race([child.exited, Bun.sleep(10_000)]);
  }
  return /"spop":"([^"]+)"/.exec(out)?.[1] ?? "";
}

describe("README: every shell command runs in a test", () => {
  test("each command is run here or by the test named for it", () => {
    const commands = readmeCommands();
    expect(commands.length).toBeGreaterThanOrEqual(8);
    const unrun = commands.filter(({ section, command }) => {
      if (section === WALKTHROUGH) return false;
      const parts = command.split(" && ");
      return !parts.every((part) => part === "npm install" || SERVES.includes(part) || part in RUN_ELSEWHERE);
    });
    expect(unrun).toEqual([]);
    for (const check of Object.values(RUN_ELSEWHERE)) check();
    expect(file("tests/e2e/operator-demo.e2e.test.ts")).toContain(`readmeBlocks("Point HAProxy at it")`);
  });

  for (const command of SERVES) {
    test(`${command}: the agent listens where SPOE_ADDR says`, async () => {
      expect(readmeCommands().some((c) => c.command.split(" && ").includes(command))).toBe(true);
      expect(await listens(command)).toMatch(/^127\.0\.0\.1:\d+$/);
    }, 90_000);
  }
});
