// A server child process that prints "PORT n" once listening (the transport runners under
// tests/helpers): spawn it, read the port (bounded), and stop it again.

/** A running child server and how to stop it. */
export interface PortChild {
  readonly port: number;
  stop(): Promise<void>;
}

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
  throw new Error(`runner printed no port: ${text}`);
}

/** Spawns `command` in `cwd` and resolves once it printed its port. */
export async function spawnPortChild(command: readonly string[], cwd: string): Promise<PortChild> {
  const child = Bun.spawn([...command], { cwd, stdout: "pipe", stderr: "inherit" });
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
}
