// The transport contract against the Deno adapter: a deno subprocess runs the same echo port
// (tests/helpers/deno-transport-runner.ts) and this Bun test drives it over TCP.
import { resolve } from "node:path";
import { runTransportSuite } from "./transport-suite.ts";

const ROOT = resolve(import.meta.dir, "../..");
const DENO = resolve(ROOT, "node_modules/.bin/deno");

/** Reads the child's stdout until the "PORT n" line (bounded). */
async function readPort(stdout: ReadableStream<Uint8Array>): Promise<number> {
  const reader = stdout.getReader();
  const decoder = new TextDecoder();
  let text = "";
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value);
    const match = /PORT (\d+)/.exec(text);
    if (match) {
      reader.releaseLock();
      return Number(match[1]);
    }
  }
  throw new Error(`deno runner printed no port: ${text}`);
}

runTransportSuite("denoAdapter", {
  async start() {
    const child = Bun.spawn([DENO, "run", "-A", "tests/helpers/deno-transport-runner.ts"], {
      cwd: ROOT,
      stdout: "pipe",
      stderr: "inherit",
    });
    try {
      const port = await readPort(child.stdout);
      return {
        port,
        stop: async () => {
          child.kill();
          await child.exited;
        },
      };
    } catch (error) {
      child.kill();
      throw error;
    }
  },
});
