// Starts a real HAProxy — 2.6 (the host's Debian 12 package), 3.0, 3.2 or 3.4 (Debian trixie, sid
// and experimental, installed by scripts/install-test-env.sh into roots of their own) — on a
// config written or chosen by the test, on free loopback ports, and stops it afterwards. Never
// mocked. The newer versions run through wrappers that use their root's own dynamic loader, so
// every path (config files, SPOE files, unix sockets) is the host's and the PID is HAProxy's.
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { waitFor } from "./ports.ts";
import { testEnvCommand } from "./test-env.ts";

/** Every HAProxy version the suite runs against, oldest first. */
export const ALL_HAPROXY_VERSIONS = ["2.6", "3.0", "3.2", "3.4"] as const;
export type HaproxyVersion = (typeof ALL_HAPROXY_VERSIONS)[number];

/** Where each version comes from (scripts/install-test-env.sh). */
export const HAPROXY_SOURCES: Readonly<Record<HaproxyVersion, string>> = {
  "2.6": "Debian 12 (bookworm)",
  "3.0": "Debian 13 (trixie)",
  "3.2": "Debian sid",
  "3.4": "Debian experimental",
};

/**
 * The versions this run covers: all of them, or the comma-separated subset in
 * SPOA_HAPROXY_VERSIONS (e.g. "3.2" while working on one version).
 */
export const HAPROXY_VERSIONS: readonly HaproxyVersion[] = selectVersions(process.env.SPOA_HAPROXY_VERSIONS);

function selectVersions(wanted: string | undefined): readonly HaproxyVersion[] {
  if (!wanted) return ALL_HAPROXY_VERSIONS;
  const picked = wanted.split(",").map((v) => v.trim()).filter((v) => v !== "");
  const unknown = picked.filter((v) => !(ALL_HAPROXY_VERSIONS as readonly string[]).includes(v));
  if (unknown.length > 0) throw new Error(`SPOA_HAPROXY_VERSIONS: unknown version ${unknown.join(", ")} (known: ${ALL_HAPROXY_VERSIONS.join(", ")})`);
  return ALL_HAPROXY_VERSIONS.filter((v) => picked.includes(v));
}

/** How a test names a version, so scripts/test.sh can count passes per version. */
export function haproxyLabel(version: HaproxyVersion): string {
  return `HAProxy ${version}`;
}

/** True when `version` is `minimum` or newer ("3.1" style strings). */
export function haproxyAtLeast(version: HaproxyVersion, minimum: string): boolean {
  const [major, minor] = version.split(".").map(Number);
  const [wantMajor, wantMinor] = minimum.split(".").map(Number);
  return major > wantMajor || (major === wantMajor && minor >= wantMinor);
}

/**
 * The shipped deploy/haproxy files a user of `version` runs: the version-specific one
 * (haproxy-2.6.cfg up to 3.0, haproxy-3.1.cfg from 3.1 on) and the portable haproxy.cfg.
 */
export function shippedConfigsFor(version: HaproxyVersion): readonly ["haproxy-2.6.cfg" | "haproxy-3.1.cfg", "haproxy.cfg"] {
  return [haproxyAtLeast(version, "3.1") ? "haproxy-3.1.cfg" : "haproxy-2.6.cfg", "haproxy.cfg"];
}

/** The mode of the SPOE agent's backend a user of `version` writes: tcp up to 3.0, spop from 3.1. */
export function spopBackendMode(version: HaproxyVersion): "tcp" | "spop" {
  return haproxyAtLeast(version, "3.1") ? "spop" : "tcp";
}

/** The command that runs HAProxy `version` (a wrapper made by scripts/install-test-env.sh). */
export function haproxyCommand(version: HaproxyVersion): string {
  return testEnvCommand(`haproxy-${version}`);
}

/**
 * A SPOE file with message check-rate sending `args` on every frontend request to backend
 * be_spoa, variables under prefix rl (the tests' config and the seed's differ only in `args`).
 */
export function checkRateSpoe(args: string): string {
  return `
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
    args ${args}
    event on-frontend-http-request
`;
}

/**
 * The SPOE file of the tests that write their own HAProxy config: message check-rate with the
 * seed's three address args, sent to backend be_spoa, variables under prefix rl.
 */
export const TEST_SPOE_CONFIG = checkRateSpoe("ip_fwd=req.fhdr(forwarded) ip_xff=req.fhdr(x-forwarded-for) ip_src=src");

/** One server's line of `show stat`: its state (UP, DOWN, …) and its last check's result. */
export interface ServerStat {
  readonly status: string;
  /** e.g. L7OK when `option spop-check` completed a HELLO handshake. */
  readonly checkStatus: string;
  readonly checkDescription: string;
}

/** A running HAProxy. */
export interface HaproxyProcess {
  readonly version: HaproxyVersion;
  /** HAProxy's own PID (the master's with `masterWorker`). */
  readonly pid: number;
  readonly output: () => string;
  /** Sends a command to the admin stats socket and returns the answer. */
  stats(command: string): Promise<string>;
  /** `show stat` of one server. */
  server(backend: string, server: string): Promise<ServerStat>;
  /**
   * SIGUSR2 to a master-worker HAProxy (`masterWorker: true`), resolved once the master reports
   * the new worker loaded (signals sent while a reload is still running would merge into one).
   * Resolves with the number of signals it took.
   */
  reload(): Promise<number>;
  stop(): Promise<void>;
}

/** Writes `files` into a fresh temp dir and returns their paths by name (and `dir`). */
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

/** Checks a config with `haproxy -c` of `version`; returns its output and exit code. */
export function checkHaproxyConfig(
  configFile: string,
  env: Readonly<Record<string, string>> = {},
  version: HaproxyVersion = "2.6",
): { code: number; output: string } {
  const run = Bun.spawnSync([haproxyCommand(version), "-c", "-f", resolve(configFile)], { env: { ...process.env, ...env } });
  return { code: run.exitCode ?? 1, output: run.stdout.toString() + run.stderr.toString() };
}

/** Sends one command to a unix stats socket and reads the answer until HAProxy closes. */
function statsCommand(socketPath: string, command: string): Promise<string> {
  return new Promise((resolveAnswer, reject) => {
    let answer = "";
    const socket = connect({ path: socketPath });
    socket.setTimeout(5_000, () => socket.destroy(new Error(`stats socket: no answer to "${command}" within 5 s`)));
    socket.once("connect", () => socket.write(`${command}\n`));
    socket.on("data", (chunk) => (answer += chunk.toString()));
    socket.once("error", reject);
    socket.once("close", () => resolveAnswer(answer));
  });
}

/** Parses `show stat` CSV (header line "# pxname,svname,…") into the row of backend/server. */
export function parseServerStat(csv: string, backend: string, server: string): ServerStat {
  const lines = csv.split("\n").filter((l) => l !== "");
  const header = (lines[0] ?? "").replace(/^# /, "").split(",");
  const column = (name: string) => header.indexOf(name);
  for (const line of lines.slice(1)) {
    const cells = line.split(",");
    if (cells[column("pxname")] === backend && cells[column("svname")] === server) {
      return { status: cells[column("status")], checkStatus: cells[column("check_status")], checkDescription: cells[column("check_desc")] ?? "" };
    }
  }
  throw new Error(`show stat has no ${backend}/${server}:\n${csv}`);
}

/**
 * Starts HAProxy `version` (default 2.6) in the foreground on `configFile` with `env`, and waits
 * until `waitPort` accepts connections. A second config file adds an admin stats socket in a temp
 * dir, so the test's (or the shipped) config stays as it is. `masterWorker` runs it with -W.
 */
export async function startHaproxy(options: {
  readonly version?: HaproxyVersion;
  readonly configFile: string;
  readonly waitPort: number;
  readonly env?: Readonly<Record<string, string>>;
  readonly masterWorker?: boolean;
}): Promise<HaproxyProcess> {
  const version = options.version ?? "2.6";
  const extra = writeTempFiles({ "stats.cfg": "" });
  const statsSocket = join(extra.dir, "stats.sock");
  writeFileSync(extra["stats.cfg"], `global\n    stats socket ${statsSocket} mode 600 level admin\n`);
  const args = [haproxyCommand(version), options.masterWorker ? "-W" : "", "-db", "-f", resolve(options.configFile), "-f", extra["stats.cfg"]];
  const child = Bun.spawn(args.filter((a) => a !== ""), {
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
      throw new Error(`haproxy ${version} exited ${code}`);
    });
    exitedEarly.catch(() => {}); // handled by the race below; later exits are expected
    await Promise.race([waitFor(`haproxy ${version} to listen`, () => isListening(options.waitPort)), exitedEarly]);
    await Promise.race([waitFor(`haproxy ${version}'s stats socket`, () => existsSync(statsSocket)), exitedEarly]);
  } catch (error) {
    child.kill("SIGKILL");
    throw new Error(`haproxy ${version} did not start: ${(error as Error).message}\n${output}`);
  }
  const stats = (command: string) => statsCommand(statsSocket, command);
  return {
    version,
    pid: child.pid,
    output: () => output,
    stats,
    server: async (backend, server) => parseServerStat(await stats("show stat"), backend, server),
    async reload() {
      const count = (line: string) => output.split(line).length - 1;
      const [reloading, loaded] = [count("Reloading HAProxy"), count("Loading success.")];
      // A master that has just finished a reload may drop a SIGUSR2 (seen on 3.0): send again
      // until it says it is reloading.
      let signals = 0;
      for (;;) {
        child.kill("SIGUSR2");
        signals++;
        try {
          await waitFor(`haproxy ${version} to start a reload`, () => count("Reloading HAProxy") > reloading, 1_000);
          break;
        } catch (error) {
          if (signals === 5) throw new Error(`${(error as Error).message} after ${signals} SIGUSR2; its output ends:\n${output.slice(-3_000)}`);
        }
      }
      await waitFor(`haproxy ${version} to finish a reload`, () => count("Loading success.") > loaded, 15_000).catch((error: Error) => {
        throw new Error(`${error.message}; its output ends:\n${output.slice(-3_000)}`);
      });
      return signals;
    },
    async stop() {
      child.kill("SIGTERM");
      const exited = await Promise.race([child.exited.then(() => true), Bun.sleep(3_000).then(() => false)]);
      if (!exited) child.kill("SIGKILL");
    },
  };
}

/**
 * Waits until `backend/server` is UP with a passed spop-check (L7OK): the agent's HELLO
 * handshake works for this HAProxy version. Returns the stat line seen.
 */
export async function waitForAgentUp(haproxy: HaproxyProcess, backend: string, server: string, timeoutMs = 15_000): Promise<ServerStat> {
  let last: ServerStat | undefined;
  try {
    await waitFor(`${backend}/${server} UP with spop-check L7OK on HAProxy ${haproxy.version}`, async () => {
      last = await haproxy.server(backend, server);
      return last.status === "UP" && last.checkStatus === "L7OK";
    }, timeoutMs);
  } catch (error) {
    throw new Error(`${(error as Error).message}; last: ${JSON.stringify(last)}`);
  }
  return last as ServerStat;
}

/**
 * The HAProxy config most e2e tests write: an HTTP frontend on `frontendPort` with the SPOE
 * filter of `spoeFile` and the test's `http-request` lines, and backend be_spoa reaching the
 * agent at `server` ("127.0.0.1:port" or "unix@/path") as spoa1 with `option spop-check`, in
 * the mode a user of `version` writes (tcp when no version is given; 3.1+ accepts it too).
 */
export function spoeFrontendConfig(options: {
  readonly frontendPort: number;
  readonly server: string;
  readonly spoeFile: string;
  readonly rules: readonly string[];
  readonly version?: HaproxyVersion;
}): string {
  return `
global
    maxconn 1000
${httpFrontendSections(options)}
backend be_spoa
    mode ${options.version ? spopBackendMode(options.version) : "tcp"}
    timeout connect 1s
    timeout server 30s
    option spop-check
    server spoa1 ${options.server} check inter 1s
`;
}

/**
 * The `defaults` and `frontend fe_web` sections of spoeFrontendConfig, for a test that writes
 * its own backends: HTTP on `frontendPort`, the SPOE filter of `spoeFile`, then `rules`.
 */
export function httpFrontendSections(options: {
  readonly frontendPort: number;
  readonly spoeFile: string;
  readonly rules: readonly string[];
}): string {
  return `
defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s

frontend fe_web
    bind 127.0.0.1:${options.frontendPort}
    filter spoe engine ratelimit config ${options.spoeFile}
${options.rules.map((rule) => `    ${rule}`).join("\n")}
`;
}
