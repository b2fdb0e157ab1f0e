// Starts a real HAProxy (Debian's 2.6) on a config written or chosen by the test, on free
// loopback ports, and stops it afterwards. Never mocked.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { waitFor } from "./ports.ts";
import { connect } from "node:net";

/**
 * The SPOE file of the tests that write their own HAProxy config: message check-rate with the
 * seed's three address args, sent to backend be_spoa, variables under prefix rl.
 */
export const TEST_SPOE_CONFIG = `
[ratelimit]
spoe-agent ratelimit-agent
    messages check-rate
    option var-prefix rl
    option set-on-error err
    timeout hello 2s
    timeout idle 30s
    timeout processing 1s
    use-backend be_spoa

spoe-message check-rate
    args ip_fwd=req.fhdr(forwarded) ip_xff=req.fhdr(x-forwarded-for) ip_src=src
    event on-frontend-http-request
`;

/** A running HAProxy. */
export interface HaproxyProcess {
  readonly output: () => string;
  stop(): Promise<void>;
}

/** Writes `files` into a fresh temp dir and returns their paths by name. */
export function writeTempFiles(files: Readonly<Record<string, string>>): Record<string, string> {
  const dir = mkdtempSync(join(tmpdir(), "spoa-haproxy-"));
  const paths: Record<string, string> = { dir };
  for (const [name, text] of Object.entries(files)) {
    paths[name] = join(dir, name);
    writeFileSync(paths[name], text);
  }
  return paths;
}

/** True when something accepts TCP connections on 127.0.0.1:`port`. */
export function isListening(port: number): Promise<boolean> {
  return new Promise((resolveProbe) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolveProbe(true);
    });
    socket.once("error", () => resolveProbe(false));
  });
}

/** Checks a config with `haproxy -c`; returns its output and exit code. */
export function checkHaproxyConfig(configFile: string, env: Readonly<Record<string, string>> = {}): { code: number; output: string } {
  const run = Bun.spawnSync(["haproxy", "-c", "-f", configFile], { env: { ...process.env, ...env } });
  return { code: run.exitCode ?? 1, output: run.stdout.toString() + run.stderr.toString() };
}

/** Starts `haproxy -db -f configFile` with `env` and waits until `waitPort` accepts connections. */
export async function startHaproxy(options: {
  readonly configFile: string;
  readonly waitPort: number;
  readonly env?: Readonly<Record<string, string>>;
}): Promise<HaproxyProcess> {
  const child = Bun.spawn(["haproxy", "-db", "-f", options.configFile], {
    env: { ...process.env, ...options.env },
    stdout: "pipe",
    stderr: "pipe",
  });
  let output = "";
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) output += decoder.decode(chunk);
  };
  void collect(child.stdout);
  void collect(child.stderr);
  try {
    // Race the exit: a config error ends haproxy at once, and waiting the full timeout would hide it.
    const exitedEarly = child.exited.then((code) => {
      throw new Error(`haproxy exited ${code}`);
    });
    exitedEarly.catch(() => {}); // handled by the race below; later exits are expected
    await Promise.race([waitFor("haproxy to listen", () => isListening(options.waitPort)), exitedEarly]);
  } catch (error) {
    child.kill("SIGKILL");
    throw new Error(`haproxy did not start: ${(error as Error).message}\n${output}`);
  }
  return {
    output: () => output,
    async stop() {
      child.kill("SIGTERM");
      const exited = await Promise.race([child.exited.then(() => true), Bun.sleep(3_000).then(() => false)]);
      if (!exited) child.kill("SIGKILL");
    },
  };
}
