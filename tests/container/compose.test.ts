// deploy/compose.yaml started the way docs/deployment.md says (podman-compose, Debian 12's 1.0.3):
// HAProxy 2.6 → the agent built from the Containerfile → Valkey, all from local images through
// the compose file's image variables. Through HAProxy's published port the example policy's login
// limit (5 a minute) lets exactly five POSTs through, then answers 429 with the Retry-After and
// RateLimit headers GCRA predicts; with deploy/compose.replicas.yaml two HAProxy + agent replicas
// share that budget through Valkey; `down` leaves no container running.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type Seen, seen, series } from "../helpers/gcra-expect.ts";
import { httpRequest } from "../helpers/http-client.ts";
import { freePort, waitFor } from "../helpers/ports.ts";
import { scrape, sumOf } from "../helpers/prometheus.ts";
import { buildAgentImage, LOCAL_IMAGES, podman, podmanUnavailable, runCommand } from "../helpers/podman.ts";
import { docCommand, docCommands } from "./doc-commands.ts";
import { loginSeries } from "./example-policy.ts";

const unavailable = podmanUnavailable() ?? (Bun.which("podman-compose") === null ? "podman-compose is not installed" : undefined);

/** One project of the compose file(s): up, requests, down, and removal of what down leaves. */
class ComposeProject {
  readonly name: string;
  readonly env: Record<string, string>;
  readonly files: readonly string[];

  constructor(name: string, files: readonly string[], env: Record<string, string>) {
    this.name = name;
    this.files = files;
    this.env = env;
  }

  /** The documented `podman-compose -f deploy/compose.yaml <verb…>` with `-p NAME` and any extra `-f`s inserted. */
  command(prefix: readonly string[]): string[] {
    const argv = docCommand("compose-podman", ["podman-compose", "-f", "deploy/compose.yaml", ...prefix]);
    return [argv[0], "-p", this.name, ...argv.slice(1, 3), ...this.files.flatMap((f) => ["-f", f]), ...argv.slice(3)];
  }

  async up(): Promise<void> {
    await runCommand(this.command(["up"]), { env: this.env, timeoutMs: 600_000 });
  }

  async down(): Promise<void> {
    await runCommand(this.command(["down"]), { env: this.env, allowFailure: true });
  }

  async containers(filter: string[] = []): Promise<string[]> {
    const { stdout } = await podman(["ps", "-a", "-q", "--filter", `label=io.podman.compose.project=${this.name}`, ...filter]);
    return stdout.split("\n").filter((l) => l !== "");
  }

  /** Whatever is left of the project (podman-compose 1.0.3's `down` keeps its network), by its label. */
  async remove(): Promise<string[]> {
    const leftovers: string[] = [];
    const containers = await this.containers();
    if (containers.length > 0) {
      leftovers.push(`${containers.length} containers`);
      await podman(["rm", "-f", "-t", "2", ...containers], { allowFailure: true });
    }
    const networks = (await podman(["network", "ls", "-q", "--filter", `label=io.podman.compose.project=${this.name}`])).stdout.split("\n").filter((l) => l !== "");
    if (networks.length > 0) {
      leftovers.push(`network ${networks.join(" ")}`);
      await podman(["network", "rm", "-f", ...networks], { allowFailure: true });
    }
    return leftovers;
  }
}

/** Sends `POST /login` as `client` (X-Forwarded-For: HAProxy's peer is the compose gateway, 10/8, trusted). */
function login(port: number, client: string): Promise<Seen> {
  return httpRequest({ port, method: "POST", path: "/login", headers: { "X-Forwarded-For": client } }).then(seen);
}

/** Waits until HAProxy on `port` answers with the agent's RateLimit header (the agent is UP, not failed open). */
async function waitForDecisions(port: number): Promise<void> {
  let n = 0;
  await waitFor(`HAProxy on ${port} to answer with the agent's headers`, async () => {
    const response = await httpRequest({ port, path: "/", headers: { "X-Forwarded-For": `198.51.100.${++n % 250}` } }, 2_000);
    return response.headers.has("ratelimit");
  }, 30_000);
}

/** The agent whose metrics are on `port` reaches Valkey (podman-compose does not wait for Valkey's healthcheck). */
async function waitForValkey(port: number): Promise<void> {
  await waitFor(`the agent (metrics ${port}) to reach Valkey`, async () => sumOf(await scrape(port), "spoa_valkey_reachable") === 1, 20_000);
}

describe("docs/deployment.md: the compose commands", () => {
  test("docker's are podman-compose's with `docker compose` in its place", () => {
    const podmanLines = docCommands("compose-podman").map((argv) => argv[0] === "podman-compose" ? ["docker", "compose", ...argv.slice(1)] : argv);
    expect(docCommands("compose-docker")).toEqual(podmanLines);
  });
});

describe.skipIf(unavailable !== undefined)(`container compose: deploy/compose.yaml with podman-compose${unavailable === undefined ? "" : ` (skipped: ${unavailable})`}`, () => {
  const projects: ComposeProject[] = [];
  let env: Record<string, string>;

  beforeAll(async () => {
    const image = await buildAgentImage();
    env = { ...LOCAL_IMAGES, SPOA_GCRA_IMAGE: image.ref };
  }, 600_000);

  afterAll(async () => {
    for (const p of projects) {
      await p.down();
      await p.remove();
    }
  });

  async function start(suffix: string, files: readonly string[]): Promise<{ project: ComposeProject; ports: Record<string, number> }> {
    const ports = { HTTP_PORT: await freePort(), HTTP_PORT_B: await freePort(), METRICS_PORT: await freePort(), METRICS_PORT_B: await freePort() };
    const project = new ComposeProject(`spoa-gcra-test-${suffix}-${process.pid}`, files, { ...env, ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])) });
    projects.push(project);
    await project.up();
    return { project, ports };
  }

  test("HAProxy → agent → Valkey: five logins pass, then 429 with Retry-After 12 and RateLimit headers, decided by Valkey; down leaves nothing running", async () => {
    const { project, ports } = await start("one", []);
    expect((await project.containers(["--filter", "status=running"])).length).toBe(3);
    await waitForDecisions(ports.HTTP_PORT);
    await waitForValkey(ports.METRICS_PORT);
    const degradedBefore = sumOf(await scrape(ports.METRICS_PORT), "spoa_degraded_decisions_total");

    expect(await series(7, () => login(ports.HTTP_PORT, "203.0.113.10"))).toEqual(loginSeries(7));
    // Another client has its own budget.
    expect(await login(ports.HTTP_PORT, "203.0.113.11")).toEqual(loginSeries(1)[0]);
    const metrics = await scrape(ports.METRICS_PORT);
    expect(sumOf(metrics, "spoa_decisions_total", { limit: "login", result: "deny" })).toBe(2);
    expect(sumOf(metrics, "spoa_degraded_decisions_total")).toBe(degradedBefore);

    await project.down();
    expect(await project.containers()).toEqual([]);
    const leftovers = await project.remove();
    console.log(`container compose: after down, podman-compose 1.0.3 left: ${leftovers.length === 0 ? "nothing" : leftovers.join(", ")} (removed by the project's label)`);
  }, 180_000);

  test("two HAProxy + agent replicas (compose.replicas.yaml) share one budget through Valkey", async () => {
    const { project, ports } = await start("replicas", ["deploy/compose.replicas.yaml"]);
    expect((await project.containers(["--filter", "status=running"])).length).toBe(5);
    await waitForDecisions(ports.HTTP_PORT);
    await waitForDecisions(ports.HTTP_PORT_B);
    await waitForValkey(ports.METRICS_PORT);
    await waitForValkey(ports.METRICS_PORT_B);
    // Each agent keeps its own memory: only Valkey can make the second replica see the first's requests.
    let i = 0;
    const seenSeries = await series(7, () => login(i++ % 2 === 0 ? ports.HTTP_PORT : ports.HTTP_PORT_B, "203.0.113.20"));
    expect(seenSeries).toEqual(loginSeries(7));
    await project.down();
    expect(await project.containers()).toEqual([]);
    await project.remove();
  }, 180_000);
});
