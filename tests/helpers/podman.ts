// Podman plumbing for the container tests (tests/container/): the test environment's own
// containers.conf and storage.conf (scripts/install-container-env.sh writes them; the machine's
// global files are never read), the local base images, one build of the shipped Containerfile per
// test process, and containers that carry a label so cleanup removes exactly what a test made —
// by label or by ID, never prune, never --all.
import { afterAll, beforeAll } from "bun:test";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { type ParsedFamily, parsePrometheus } from "../observe/prom-parser.ts";
import type { HttpRequest, HttpResponse } from "./http-client.ts";
import { TEST_ENV_CACHE } from "./test-env.ts";
import { waitFor } from "./ports.ts";

export const REPO_ROOT = resolve(import.meta.dir, "../..");
const CONFIG_DIR = join(TEST_ENV_CACHE, "containers");

/** The environment every podman (and podman-compose) command of the tests runs with. */
export const PODMAN_ENV: Readonly<Record<string, string>> = {
  PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin",
  HOME: process.env.HOME ?? "/root",
  CONTAINERS_CONF: join(CONFIG_DIR, "containers.conf"),
  CONTAINERS_STORAGE_CONF: join(CONFIG_DIR, "storage.conf"),
};

/** The label key on everything the tests create; its value says what made it. */
export const TEST_LABEL = "spoa-gcra.test";

/** A local image the installer built from Debian packages (`distroless-cc:debian12`, `haproxy:3.2`, …). */
export function baseImage(name: string): string {
  return `localhost/spoa-gcra-test/${name}`;
}

/** The Containerfile's and compose file's image arguments, pointed at the local images. */
export const LOCAL_IMAGES: Readonly<Record<"BUN_IMAGE" | "RUNTIME_IMAGE" | "HAPROXY_IMAGE" | "VALKEY_IMAGE", string>> = {
  BUN_IMAGE: baseImage("bun:1.4.5"),
  RUNTIME_IMAGE: baseImage("distroless-cc:debian12"),
  HAPROXY_IMAGE: baseImage("haproxy:2.6"),
  VALKEY_IMAGE: baseImage("valkey:9"),
};

/** Why the container tests cannot run here, or undefined when they can. */
export function podmanUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return "the container tests run podman as root (rootful, runc)";
  if (!existsSync(PODMAN_ENV.CONTAINERS_CONF)) return `${PODMAN_ENV.CONTAINERS_CONF} is missing: run scripts/install-test-env.sh`;
  if (Bun.which("podman") === null) return "podman is not installed: run scripts/install-test-env.sh";
  return undefined;
}

/** What a finished command printed. */
export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command with PODMAN_ENV (plus `env`); throws with its output when it fails, unless `allowFailure`. */
export async function runCommand(
  argv: readonly string[],
  options: { readonly env?: Readonly<Record<string, string>>; readonly cwd?: string; readonly allowFailure?: boolean; readonly timeoutMs?: number } = {},
): Promise<CommandResult> {
  const child = Bun.spawn([...argv], { cwd: options.cwd ?? REPO_ROOT, env: { ...PODMAN_ENV, ...options.env }, stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 300_000);
  const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  clearTimeout(timer);
  if (code !== 0 && options.allowFailure !== true) {
    throw new Error(`${argv.join(" ")} exited ${code}:\n${stderr.slice(-3000)}${stdout.slice(-2000)}`);
  }
  return { code, stdout, stderr };
}

/** `podman ARGS…`. */
export function podman(args: readonly string[], options: Parameters<typeof runCommand>[1] = {}): Promise<CommandResult> {
  return runCommand(["podman", ...args], options);
}

/** `podman inspect --format FORMAT ID` (of a container, pod or image), trimmed. */
export async function inspect(id: string, format: string, kind: "container" | "image" | "pod" = "container"): Promise<string> {
  const sub = kind === "pod" ? ["pod", "inspect"] : [kind, "inspect"];
  return (await podman([...sub, "--format", format, id])).stdout.trim();
}

export interface AgentImage {
  readonly ref: string;
  readonly id: string;
  /** Seconds the build took in this process (cold when the layer cache was empty). */
  readonly buildSeconds: number;
  readonly sizeBytes: number;
}

const AGENT_IMAGE = baseImage("agent:test");
let agentImage: Promise<AgentImage> | undefined;

/**
 * The shipped Containerfile built once per test process with the local base images (the only
 * difference from a user's `podman build -f Containerfile .`); podman's layer cache makes a rebuild
 * of unchanged sources quick. Images earlier builds left behind are removed by their IDs.
 */
export function buildAgentImage(): Promise<AgentImage> {
  agentImage ??= (async () => {
    const started = performance.now();
    const build = await podman(["build", "--pull=never", "-f", "Containerfile", "--label", `${TEST_LABEL}=image`, "-t", AGENT_IMAGE, ...buildArgs(["BUN_IMAGE", "RUNTIME_IMAGE"]), "."], { timeoutMs: 600_000 });
    const buildSeconds = (performance.now() - started) / 1000;
    const id = await inspect(AGENT_IMAGE, "{{.Id}}", "image");
    // Every step of this build printed the image it used or made ("--> Using cache <id>",
    // "--> <id>"): those are the layer cache of the current sources. Anything else an earlier
    // build left (a replaced image, the stages of older sources) goes, by label and by ID, so the
    // store does not grow by an executable per change.
    const current = [...`${build.stdout}\n${build.stderr}`.matchAll(/^--> (?:Using cache )?([0-9a-f]{11,64})/gm)].map((m) => m[1].slice(0, 12));
    const keep = new Set([...current, id.slice(0, 12)]);
    const labelled = lines((await podman(["images", "-a", "-q", "--no-trunc", "--filter", `label=${TEST_LABEL}=image`])).stdout).map((l) => l.replace(/^sha256:/, "").slice(0, 12));
    const stale = [...new Set(labelled)].filter((old) => !keep.has(old));
    if (stale.length > 0) await podman(["rmi", ...stale], { allowFailure: true });
    const sizeBytes = Number(await inspect(AGENT_IMAGE, "{{.Size}}", "image"));
    return { ref: AGENT_IMAGE, id, buildSeconds, sizeBytes };
  })();
  return agentImage;
}

/** `--build-arg NAME=local image` for each name. */
export function buildArgs(names: readonly (keyof typeof LOCAL_IMAGES)[]): string[] {
  return names.flatMap((name) => ["--build-arg", `${name}=${LOCAL_IMAGES[name]}`]);
}

/**
 * Containers, pods and networks of one test file: each carries `spoa-gcra.test=<scope>-<pid>`,
 * and `cleanup()` removes exactly those, by that label.
 */
export class PodmanScope {
  readonly label: string;

  constructor(scope: string) {
    this.label = `${TEST_LABEL}=${scope}-${process.pid}`;
  }

  /** `podman run -d --label … ARGS…`; resolves with the container ID. */
  async run(args: readonly string[]): Promise<string> {
    return (await podman(["run", "-d", "--label", this.label, ...args])).stdout.trim().split("\n").at(-1) ?? "";
  }

  /** `podman network create --label … NAME`. */
  async network(name: string): Promise<string> {
    await podman(["network", "create", "--label", this.label, name]);
    return name;
  }

  /** IDs of this scope's containers (running or not). */
  async containers(): Promise<string[]> {
    return lines((await podman(["ps", "-a", "-q", "--filter", `label=${this.label}`])).stdout);
  }

  /** Removes this scope's pods, containers and networks (and nothing else). */
  async cleanup(): Promise<void> {
    const pods = lines((await podman(["pod", "ps", "-q", "--filter", `label=${this.label}`], { allowFailure: true })).stdout);
    if (pods.length > 0) await podman(["pod", "rm", "-f", "-t", "2", ...pods], { allowFailure: true });
    const containers = await this.containers();
    if (containers.length > 0) await podman(["rm", "-f", "-t", "2", ...containers], { allowFailure: true });
    const networks = lines((await podman(["network", "ls", "-q", "--filter", `label=${this.label}`], { allowFailure: true })).stdout);
    if (networks.length > 0) await podman(["network", "rm", "-f", ...networks], { allowFailure: true });
  }
}

/**
 * The usual frame of a container test file, registered in the calling describe: the image built
 * before its tests (beforeAll), the scope's containers removed after them (afterAll).
 */
export function containerSuite(scope: string): { readonly scope: PodmanScope; readonly image: () => AgentImage } {
  const podmanScope = new PodmanScope(scope);
  let image: AgentImage | undefined;
  beforeAll(async () => {
    image = await buildAgentImage();
  }, 600_000);
  afterAll(async () => {
    await podmanScope.cleanup();
  }, 60_000);
  return {
    scope: podmanScope,
    image: () => {
      if (image === undefined) throw new Error("the agent image is built in beforeAll");
      return image;
    },
  };
}

function lines(text: string): string[] {
  return text.split("\n").map((l) => l.trim()).filter((l) => l !== "");
}

/** The container's log (stdout and stderr) as parsed JSON lines; other lines are skipped. */
export async function containerLogs(id: string): Promise<Record<string, unknown>[]> {
  const { stdout, stderr } = await podman(["logs", id], { allowFailure: true });
  const entries: Record<string, unknown>[] = [];
  for (const line of `${stdout}\n${stderr}`.split("\n")) {
    if (!line.startsWith("{")) continue;
    try {
      entries.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // a partial line
    }
  }
  return entries;
}

/** Waits for the container's first log line whose `msg` is `msg`, and returns it. */
export async function waitForContainerLog(id: string, msg: string, timeoutMs = 15_000): Promise<Record<string, unknown>> {
  let found: Record<string, unknown> | undefined;
  await waitFor(`container ${id.slice(0, 12)} to log "${msg}"`, async () => {
    found = (await containerLogs(id)).find((l) => l.msg === msg);
    return found !== undefined;
  }, timeoutMs);
  return found as Record<string, unknown>;
}

/** The container's memory cgroup directory on the host (cgroup v1's memory controller, or v2). */
async function memoryCgroup(id: string): Promise<{ readonly dir: string; readonly v1: boolean }> {
  const pid = await inspect(id, "{{.State.Pid}}");
  const entries = (await Bun.file(`/proc/${pid}/cgroup`).text()).split("\n");
  const v1 = entries.find((e) => /^\d+:memory:/.test(e));
  if (v1 !== undefined) return { dir: join("/sys/fs/cgroup/memory", v1.split(":")[2]), v1: true };
  return { dir: join("/sys/fs/cgroup", (entries.find((e) => e.startsWith("0::")) ?? "0::/").slice(3)), v1: false };
}

/**
 * The container's memory as its cgroup is charged for it, seen from the host: the working set
 * (usage less inactive file pages, what Kubernetes' container_memory_working_set_bytes reports).
 */
export async function cgroupMemoryBytes(id: string): Promise<number> {
  const { dir, v1 } = await memoryCgroup(id);
  const usage = Number((await Bun.file(join(dir, v1 ? "memory.usage_in_bytes" : "memory.current")).text()).trim());
  const stat = await Bun.file(join(dir, "memory.stat")).text();
  const inactive = Number(/^(?:total_inactive_file|inactive_file) (\d+)$/m.exec(stat)?.[1] ?? 0);
  return usage - inactive;
}

/** The highest charge the container's cgroup reached (v1 max_usage_in_bytes, v2 memory.peak); 0 or NaN where the kernel does not keep it. */
export async function cgroupPeakBytes(id: string): Promise<number> {
  const { dir, v1 } = await memoryCgroup(id);
  const file = Bun.file(join(dir, v1 ? "memory.max_usage_in_bytes" : "memory.peak"));
  return (await file.exists()) ? Number((await file.text()).trim()) : Number.NaN;
}

/**
 * One HTTP request to a container's own address on a test network (not published on the host),
 * with the same shape of answer as tests/helpers/http-client.ts gives for 127.0.0.1.
 */
export async function httpToContainer(ip: string, request: HttpRequest, timeoutMs = 5_000): Promise<HttpResponse> {
  const response = await fetch(`http://${ip}:${request.port}${request.path ?? "/"}`, {
    method: request.method ?? "GET",
    headers: { Connection: "close", ...request.headers },
    signal: AbortSignal.timeout(timeoutMs),
  });
  const headers = new Map<string, string>();
  response.headers.forEach((value, name) => headers.set(name.toLowerCase(), value));
  return { status: response.status, headers, body: await response.text() };
}

/** /metrics of an agent at a container's address, parsed like tests/helpers/prometheus.ts's scrape(). */
export async function scrapeContainer(ip: string, port = 12346): Promise<Map<string, ParsedFamily>> {
  const response = await httpToContainer(ip, { port, path: "/metrics" });
  if (response.status !== 200) throw new Error(`/metrics at ${ip}:${port} answered ${response.status}`);
  return parsePrometheus(response.body);
}
