// The composition root built in-process with fake host probes (no /proc, no /sys): it serves
// SPOP and /metrics, reloads, drains and closes, in the order its callers use.
import { describe, expect, test } from "bun:test";
import { type AppHost, startAgentApp } from "../../src/app/agent-app.ts";
import type { HostProbes } from "../../src/app/host/probes.ts";
import { parseCliArgs } from "../../src/cli/args.ts";
import { loadConfig } from "../../src/config/load.ts";
import type { AgentConfig } from "../../src/config/schema.ts";
import { createLogger } from "../../src/observe/log.ts";
import { freePort } from "../helpers/ports.ts";
import { portOf, scrape, sumOf } from "../helpers/prometheus.ts";
import { clientIp, connectSpop } from "../helpers/spop-socket.ts";

/** The seed limit: one request per `intervalUs`, bursts of two. */
function config(spopPort: number, metricsPort: number, intervalUs: number): AgentConfig {
  const args = parseCliArgs(["serve", "--listen", `127.0.0.1:${spopPort}`, "--metrics", `127.0.0.1:${metricsPort}`]);
  return loadConfig({ args, env: { SPOA_RATE_INTERVAL: String(intervalUs), SPOA_RATE_BURST: String(intervalUs) }, readFile: () => "" });
}

/** Probes of an imaginary container: 2 CPUs' worth of workers, no memory limit, descriptors never run out. */
const fakeProbes: HostProbes = {
  containerLimits: () => ({ cpuLimit: 2, memoryLimit: undefined, sizing: { maxKeys: 10_000, reason: "configured" }, heap: "default" }),
  watchFds: () => ({ acceptFailed: () => {}, sample: () => {}, stop: () => {} }),
  autoWorkers: () => 2,
  memoryLimit: () => undefined,
};

describe("startAgentApp()", () => {
  test("serves decisions and metrics, applies a reload, then drains and closes", async () => {
    const spopPort = await freePort();
    const metricsPort = await freePort();
    let intervalUs = 60_000_000;
    const lines: Record<string, unknown>[] = [];
    const host: AppHost = {
      runtime: "bun",
      pid: 4242,
      env: () => ({}),
      memoryUsage: () => ({ rss: 1, heapUsed: 1 }),
      readConfig: () => config(spopPort, metricsPort, intervalUs),
      probes: fakeProbes,
    };
    const logger = createLogger({ level: "info", sink: (line) => lines.push(JSON.parse(line)), clock: { nowUs: () => Date.now() * 1000 } });
    const app = await startAgentApp(host.readConfig(), host, { logger, version: "0.0.0-test", reusePort: false, processes: 1 });
    expect([app.spopAddress, app.metricsAddress]).toEqual([`127.0.0.1:${spopPort}`, `127.0.0.1:${metricsPort}`]);

    const spop = await connectSpop(spopPort);
    const first = [await spop.check(clientIp(1)), await spop.check(clientIp(1)), await spop.check(clientIp(1))];
    expect(first.map((v) => v.allowed)).toEqual([true, true, false]);
    const families = await scrape(portOf(app.metricsAddress!));
    expect(sumOf(families, "spoa_decisions_total")).toBe(3);
    expect(sumOf(families, "spoa_memory_store_max_keys")).toBe(10_000); // sized by the fake probe

    intervalUs = 10_000;
    app.reload("test");
    expect(lines.map((l) => l.msg)).toContain("config reloaded");
    // The reloaded limit has a budget of its own: the client denied a moment ago passes again.
    expect((await spop.check(clientIp(1))).allowed).toBe(true);

    spop.close();
    await app.drain("test");
    await app.close("test");
    const order = lines.map((l) => l.msg).filter((msg) => msg === "listening" || msg === "draining" || msg === "stopped");
    expect(order).toEqual(["listening", "draining", "stopped"]);
  });
});
