// Starts real valkey-server processes for tests — Valkey 8 (the host's bookworm-backports
// package) or 9 (Debian sid, run from the root scripts/install-test-env.sh builds) — standalone
// (optionally with a password, an ACL user, TLS), a 3-primary cluster, a primary + replica +
// sentinel — on free 127.0.0.1 ports in a temp dir. Never mocked. Every start fails fast with the
// server's log when it cannot start.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { freePort, waitFor } from "./ports.ts";
import { findTestEnvCommand, testEnvCommand } from "./test-env.ts";

const START_TIMEOUT_MS = 5_000;

/** Every Valkey major version the suite runs against. */
export const ALL_VALKEY_VERSIONS = ["8", "9"] as const;
export type ValkeyVersion = (typeof ALL_VALKEY_VERSIONS)[number];

/** Where each version comes from (scripts/install-test-env.sh). */
export const VALKEY_SOURCES: Readonly<Record<ValkeyVersion, string>> = {
  "8": "Debian 12 (bookworm-backports)",
  "9": "Debian sid",
};

/** The versions this run covers: all, or the comma-separated subset in SPOA_VALKEY_VERSIONS. */
export const VALKEY_VERSIONS: readonly ValkeyVersion[] = ((wanted) => {
  if (!wanted) return ALL_VALKEY_VERSIONS;
  const picked = wanted.split(",").map((v) => v.trim());
  const unknown = picked.filter((v) => !(ALL_VALKEY_VERSIONS as readonly string[]).includes(v));
  if (unknown.length > 0) throw new Error(`SPOA_VALKEY_VERSIONS: unknown version ${unknown.join(", ")}`);
  return ALL_VALKEY_VERSIONS.filter((v) => picked.includes(v));
})(process.env.SPOA_VALKEY_VERSIONS);

/** How a test names a version, so scripts/test.sh can count passes per version. */
export function valkeyLabel(version: ValkeyVersion): string {
  return `Valkey ${version}`;
}

/**
 * The valkey-server or valkey-cli of `version`: the wrapper scripts/install-test-env.sh made in
 * its cache, or (Valkey 8 only, for benchmarks run without it) the one on PATH.
 */
export function valkeyCommand(program: "valkey-server" | "valkey-cli", version: ValkeyVersion = "8"): string {
  const name = `${program}-${version}`;
  return version === "8" ? (findTestEnvCommand(name) ?? program) : testEnvCommand(name);
}

/** A running (or stopped, restartable) valkey-server. */
export interface ValkeyProcess {
  readonly port: number;
  /** The TLS port when started with `tls`. */
  readonly tlsPort?: number;
  readonly dir: string;
  /** redis://127.0.0.1:port (no credentials). */
  readonly url: string;
  /** Runs valkey-cli against this server (with its password, if any) and returns stdout. */
  cli(...args: string[]): Promise<string>;
  /** The server's log so far. */
  output(): string;
  /** SIGKILL (default) or SIGTERM, and wait for the exit. */
  stop(signal?: "SIGKILL" | "SIGTERM"): Promise<void>;
  /** Starts the same server again (same port, dir, config). */
  restart(): Promise<void>;
}

/** PEM files made with openssl: a CA, a server cert for 127.0.0.1/localhost, a client cert. */
export interface TlsFiles {
  readonly dir: string;
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
  readonly ca: string;
  readonly clientCert: string;
  readonly clientKey: string;
}

/** Options of one server. */
export interface StartValkeyOptions {
  /** Valkey major version (default 8). */
  readonly version?: ValkeyVersion;
  /** `requirepass` (the default user's password). */
  readonly password?: string;
  /** An extra ACL user with all rights on all keys. */
  readonly aclUser?: { readonly name: string; readonly password: string };
  readonly tls?: TlsFiles;
  readonly cluster?: boolean;
  readonly replicaOf?: number;
  /** Extra config lines. */
  readonly config?: readonly string[];
}

function run(cmd: string[], cwd?: string): string {
  const result = Bun.spawnSync(cmd, { cwd, stdout: "pipe", stderr: "pipe" });
  if (result.exitCode !== 0) {
    throw new Error(`${cmd[0]} ${cmd[1]} failed (${result.exitCode}): ${result.stderr.toString()}`);
  }
  return result.stdout.toString();
}

/** A temp dir for one test group; remove it with `rmSync(dir, { recursive: true })`. */
export function tempDir(prefix = "spoa-valkey-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Generates a CA, a server certificate (SAN 127.0.0.1, localhost) and a client certificate. */
export function makeTlsFiles(dir: string): TlsFiles {
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  run(["openssl", "req", "-x509", ...ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=spoa-test-ca"], dir);
  writeFileSync(join(dir, "server.ext"), "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
  for (const name of ["server", "client"]) {
    run(["openssl", "req", ...ec, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${name === "server" ? "localhost" : "spoa-client"}`], dir);
    const ext = name === "server" ? ["-extfile", "server.ext"] : [];
    run(["openssl", "x509", "-req", "-in", `${name}.csr`, "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", `${name}.crt`, "-days", "2", ...ext], dir);
  }
  const read = (f: string) => readFileSync(join(dir, f), "utf8");
  return {
    dir,
    caFile: join(dir, "ca.crt"),
    certFile: join(dir, "server.crt"),
    keyFile: join(dir, "server.key"),
    ca: read("ca.crt"),
    clientCert: read("client.crt"),
    clientKey: read("client.key"),
  };
}

async function cliAt(version: ValkeyVersion, port: number, password: string | undefined, args: readonly string[]): Promise<string> {
  const auth = password ? ["-a", password, "--no-auth-warning"] : [];
  const child = Bun.spawn([valkeyCommand("valkey-cli", version), "-h", "127.0.0.1", "-p", String(port), ...auth, ...args], { stdout: "pipe", stderr: "pipe" });
  const [out] = await Promise.all([new Response(child.stdout).text(), child.exited]);
  return out.trim();
}

/** Starts one valkey-server (or sentinel when `sentinel` config is given) and waits for PONG. */
async function launch(opts: {
  readonly version: ValkeyVersion;
  readonly dir: string;
  readonly port: number;
  readonly configLines: readonly string[];
  readonly password?: string;
  readonly sentinel?: boolean;
}): Promise<{ child: Subprocess; start: () => Promise<Subprocess> }> {
  const conf = join(opts.dir, opts.sentinel ? "sentinel.conf" : "valkey.conf");
  writeFileSync(conf, opts.configLines.join("\n") + "\n");
  const log = join(opts.dir, opts.sentinel ? "sentinel.log" : "valkey.log");
  const start = async (): Promise<Subprocess> => {
    const child = Bun.spawn([valkeyCommand("valkey-server", opts.version), conf, ...(opts.sentinel ? ["--sentinel"] : [])], { stdout: "ignore", stderr: "pipe" });
    try {
      const deadline = Date.now() + START_TIMEOUT_MS;
      for (;;) {
        if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode}`);
        if ((await cliAt(opts.version, opts.port, opts.password, ["PING"])) === "PONG") break;
        if (Date.now() > deadline) throw new Error(`no PONG within ${START_TIMEOUT_MS} ms`);
        await Bun.sleep(20);
      }
    } catch (error) {
      child.kill("SIGKILL");
      let text = "";
      try {
        text = readFileSync(log, "utf8").slice(-2000);
      } catch {
        text = "(no log)";
      }
      throw new Error(`valkey-server failed to start on ${opts.port}: ${(error as Error).message}\n${text}`);
    }
    return child;
  };
  return { child: await start(), start };
}

/** Starts a standalone (or cluster-enabled, or replica) valkey-server. */
export async function startValkey(options: StartValkeyOptions = {}, dir = tempDir()): Promise<ValkeyProcess> {
  const port = await freePort();
  const tlsPort = options.tls ? await freePort() : undefined;
  const lines = [
    `port ${port}`,
    "bind 127.0.0.1",
    'save ""',
    "appendonly no",
    `dir ${dir}`,
    `logfile ${join(dir, "valkey.log")}`,
    ...(options.password ? [`requirepass ${options.password}`, `masterauth ${options.password}`] : []),
    ...(options.aclUser ? [`user ${options.aclUser.name} on >${options.aclUser.password} ~* &* +@all`] : []),
    ...(options.tls
      ? [
        `tls-port ${tlsPort}`,
        `tls-cert-file ${options.tls.certFile}`,
        `tls-key-file ${options.tls.keyFile}`,
        `tls-ca-cert-file ${options.tls.caFile}`,
        "tls-auth-clients optional",
      ]
      : []),
    ...(options.cluster
      ? ["cluster-enabled yes", "cluster-config-file nodes.conf", "cluster-node-timeout 1000", "cluster-require-full-coverage no"]
      : []),
    ...(options.replicaOf ? [`replicaof 127.0.0.1 ${options.replicaOf}`] : []),
    ...(options.config ?? []),
  ];
  const version = options.version ?? "8";
  const launched = await launch({ version, dir, port, configLines: lines, password: options.password });
  let child = launched.child;
  return {
    port,
    tlsPort,
    dir,
    url: `redis://127.0.0.1:${port}`,
    cli: (...args) => cliAt(version, port, options.password, args),
    output: () => readFileSync(join(dir, "valkey.log"), "utf8"),
    stop: async (signal = "SIGKILL") => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      await child.exited;
    },
    restart: async () => {
      child = await launched.start();
    },
  };
}

/** Three cluster-enabled primaries with all 16384 slots assigned, no replicas. */
export interface ValkeyCluster {
  readonly nodes: readonly ValkeyProcess[];
  /** redis:// seed URLs of all nodes. */
  readonly urls: readonly string[];
  /** Waits until every running node reports cluster_state:ok. */
  waitOk(nodes?: readonly ValkeyProcess[]): Promise<void>;
  stop(): Promise<void>;
}

/** Starts a 3-primary cluster of Valkey `version` with `valkey-cli --cluster create`. */
export async function startCluster(dir = tempDir(), version: ValkeyVersion = "8"): Promise<ValkeyCluster> {
  const nodes: ValkeyProcess[] = [];
  try {
    for (let i = 0; i < 3; i++) {
      const nodeDir = join(dir, `node${i}`);
      Bun.spawnSync(["mkdir", "-p", nodeDir]);
      nodes.push(await startValkey({ cluster: true, version }, nodeDir));
    }
    const out = await cliAt(version, nodes[0].port, undefined, ["--cluster", "create", ...nodes.map((n) => `127.0.0.1:${n.port}`), "--cluster-yes"]);
    if (!out.includes("All 16384 slots covered")) throw new Error(`cluster create failed:\n${out}`);
  } catch (error) {
    await Promise.all(nodes.map((n) => n.stop()));
    throw error;
  }
  const waitOk = async (which: readonly ValkeyProcess[] = nodes) => {
    for (const node of which) {
      await waitFor(`cluster_state:ok on ${node.port}`, async () => (await node.cli("CLUSTER", "INFO")).includes("cluster_state:ok"), 10_000);
    }
  };
  await waitOk();
  return {
    nodes,
    urls: nodes.map((n) => n.url),
    waitOk,
    stop: async () => {
      await Promise.all(nodes.map((n) => n.stop()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A primary, a replica and one sentinel monitoring them as `masterName`. */
export interface ValkeySentinelGroup {
  readonly primary: ValkeyProcess;
  readonly replica: ValkeyProcess;
  readonly sentinelPort: number;
  readonly masterName: string;
  /** Runs valkey-cli against the sentinel. */
  sentinelCli(...args: string[]): Promise<string>;
  stop(): Promise<void>;
}

/** Starts primary + replica + sentinel of Valkey `version`; waits until the sentinel knows the replica. */
export async function startSentinelGroup(dir = tempDir(), version: ValkeyVersion = "8"): Promise<ValkeySentinelGroup> {
  const masterName = "spoa";
  const mk = (name: string) => {
    const d = join(dir, name);
    Bun.spawnSync(["mkdir", "-p", d]);
    return d;
  };
  const primary = await startValkey({ version }, mk("primary"));
  const replica = await startValkey({ replicaOf: primary.port, version }, mk("replica"));
  const sentinelPort = await freePort();
  const sdir = mk("sentinel");
  const sentinel = await launch({
    version,
    dir: sdir,
    port: sentinelPort,
    sentinel: true,
    configLines: [
      `port ${sentinelPort}`,
      "bind 127.0.0.1",
      `dir ${sdir}`,
      `logfile ${join(sdir, "sentinel.log")}`,
      `sentinel monitor ${masterName} 127.0.0.1 ${primary.port} 1`,
      `sentinel down-after-milliseconds ${masterName} 1000`,
      `sentinel failover-timeout ${masterName} 3000`,
    ],
  }).catch(async (error) => {
    await Promise.all([primary.stop(), replica.stop()]);
    throw error;
  });
  const sentinelCli = (...args: string[]) => cliAt(version, sentinelPort, undefined, args);
  await waitFor("sentinel to see the replica", async () => {
    const out = await sentinelCli("SENTINEL", "REPLICAS", masterName);
    return out.includes(String(replica.port)) && !out.includes("s_down") && (await replica.cli("INFO", "replication")).includes("master_link_status:up");
  }, 15_000);
  return {
    primary,
    replica,
    sentinelPort,
    masterName,
    sentinelCli,
    stop: async () => {
      sentinel.child.kill("SIGKILL");
      await sentinel.child.exited;
      await Promise.all([primary.stop(), replica.stop()]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A running valkey-sentinel. */
export interface SentinelProcess {
  readonly port: number;
  readonly dir: string;
  /** Runs valkey-cli against this sentinel and returns stdout. */
  cli(...args: string[]): Promise<string>;
  stop(): Promise<void>;
}

/** Starts one sentinel on a free port in `dir` with `lines` after port, bind, dir and logfile. */
export async function startSentinel(version: ValkeyVersion, dir: string, lines: readonly string[]): Promise<SentinelProcess> {
  const port = await freePort();
  const { child } = await launch({
    version,
    dir,
    port,
    sentinel: true,
    configLines: [`port ${port}`, "bind 127.0.0.1", `dir ${dir}`, `logfile ${join(dir, "sentinel.log")}`, ...lines],
  });
  return {
    port,
    dir,
    cli: (...args) => cliAt(version, port, undefined, args),
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGKILL");
      await child.exited;
    },
  };
}
