// The image's figures for docs/deployment.md, measured with the test environment's podman
// (scripts/install-container-env.sh) and the local base images:
//   image build time, cold (--no-cache: bun install from the npm registry, compile) and cached
//   image size (and the executable's share of it)
//   start to listening: runc's start of the container to the agent's "listening" log line (its
//     own clock), and `podman run -d` to the first SPOP answer through the published port
//   idle memory: the container's cgroup charge (working set, usage) a second after start
// Usage: bun scripts/bench-container.ts [--runs N]   (default 10 starts). Everything it creates
// carries the label spoa-gcra.test=bench-<pid> and is removed by it (images by ID).
import { parseArgs } from "node:util";
import { freePort } from "../tests/helpers/ports.ts";
import { connectSpop } from "../tests/helpers/spop-socket.ts";
import { buildArgs, cgroupMemoryBytes, inspect, LOCAL_IMAGES, podman, podmanUnavailable, PodmanScope, waitForContainerLog } from "../tests/helpers/podman.ts";

const MiB = 2 ** 20;
const { values } = parseArgs({ options: { runs: { type: "string", default: "10" } } });
const runs = Number(values.runs);

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Connects as soon as the published port answers with an AGENT-HELLO (retrying refused connects). */
async function firstHello(port: number): Promise<Awaited<ReturnType<typeof connectSpop>>> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      return await connectSpop(port, { timeoutMs: 5_000 });
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await Bun.sleep(5);
    }
  }
}

async function build(tag: string, label: string, noCache: boolean): Promise<number> {
  const started = performance.now();
  await podman(["build", "--pull=never", ...(noCache ? ["--no-cache"] : []), "-f", "Containerfile", "--label", label, "-t", tag, ...buildArgs(["BUN_IMAGE", "RUNTIME_IMAGE"]), "."], { timeoutMs: 900_000 });
  return (performance.now() - started) / 1000;
}

async function main(): Promise<number> {
  const unavailable = podmanUnavailable();
  if (unavailable !== undefined) {
    console.error(`bench-container: ${unavailable}`);
    return 1;
  }
  const scope = new PodmanScope("bench");
  const tag = `localhost/spoa-gcra-test/agent:bench-${process.pid}`;
  try {
    const cold = await build(tag, scope.label, true);
    // Twice: the first may redo the compile if the sources changed meanwhile (a shared work tree).
    await build(tag, scope.label, false);
    const cached = await build(tag, scope.label, false);
    const size = Number(await inspect(tag, "{{.Size}}", "image"));
    const base = Number(await inspect(LOCAL_IMAGES.RUNTIME_IMAGE, "{{.Size}}", "image"));
    console.log(`build: cold ${cold.toFixed(1)} s (--no-cache: bun install from npm + compile), cached ${cached.toFixed(1)} s`);
    console.log(`image: ${(size / MiB).toFixed(1)} MiB (the runtime base ${(base / MiB).toFixed(1)} MiB, the executable the rest)`);

    const inside: number[] = [];
    const outside: number[] = [];
    const idle: number[] = [];
    for (let i = 0; i < runs; i++) {
      const port = await freePort();
      const t0 = performance.now();
      const id = await scope.run(["--read-only", "-e", "SPOE_ADDR=0.0.0.0:9000", "-p", `127.0.0.1:${port}:9000`, tag]);
      const spop = await firstHello(port);
      outside.push(performance.now() - t0);
      spop.close();
      const listening = await waitForContainerLog(id, "listening");
      inside.push(Date.parse(String(listening.ts)) - Number(await inspect(id, "{{.State.StartedAt.UnixMilli}}")));
      await Bun.sleep(1_000);
      idle.push(await cgroupMemoryBytes(id));
      await podman(["rm", "-f", "-t", "5", id]);
    }
    console.log(`start → listening (runc start to the agent's log line): median ${median(inside).toFixed(0)} ms, min ${Math.min(...inside)} ms, max ${Math.max(...inside)} ms over ${runs}`);
    console.log(`podman run -d → first AGENT-HELLO through 127.0.0.1: median ${median(outside).toFixed(0)} ms over ${runs}`);
    console.log(`idle cgroup working set 1 s after start: median ${(median(idle) / MiB).toFixed(1)} MiB (max ${(Math.max(...idle) / MiB).toFixed(1)} MiB)`);
    return 0;
  } finally {
    await scope.cleanup();
    const ids = (await podman(["images", "-q", "--filter", `label=${scope.label}`], { allowFailure: true })).stdout.split("\n").filter((l) => l !== "");
    if (ids.length > 0) await podman(["rmi", "-f", ...new Set(ids)], { allowFailure: true });
  }
}

process.exit(await main());
