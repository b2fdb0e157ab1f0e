// The image under `--memory 48m --cpus 1` (docs/deployment.md's command): the agent logs the
// limits it finds in its container's cgroup and sizes its key table from them; a flood of 1.2M
// distinct keys that each stay live for an hour does not get it OOM-killed (podman inspect:
// OOMKilled false, still running) and the evictions are counted in /metrics.
import { describe, expect, test } from "bun:test";
import { floodIpv6 } from "../helpers/ipv6-flood.ts";
import { freePort } from "../helpers/ports.ts";
import { scrape, valueOf } from "../helpers/prometheus.ts";
import { containerSuite, cgroupMemoryBytes, cgroupPeakBytes, inspect, podmanUnavailable, waitForContainerLog } from "../helpers/podman.ts";
import { docCommand, replaceWord } from "./doc-commands.ts";

const unavailable = podmanUnavailable();
// More keys than the default table holds (1M), so eviction must bound it whatever the sizing chose.
const KEYS = 1_200_000;
const MiB = 2 ** 20;

describe.skipIf(unavailable !== undefined)(`container limits: --memory 48m --cpus 1 under a 1.2M-key flood${unavailable === undefined ? "" : ` (skipped: ${unavailable})`}`, () => {
  const { scope, image } = containerSuite("limits");

  test("logs the detected limits, sizes the key table, survives 1.2M live keys with evictions counted", async () => {
    const spop = await freePort();
    const metrics = await freePort();
    const argv = replaceWord(replaceWord(docCommand("limits", ["podman", "run"]), "localhost/spoa-gcra:0.1.0", image().ref), "127.0.0.1:9000:9000", `127.0.0.1:${spop}:9000`);
    // Added: the metrics port on loopback, and one request an hour per client so every key stays
    // live and only eviction bounds the table. No --rm: the exit state is inspected afterwards.
    const run = argv.slice(2).filter((w) => w !== "--rm");
    const id = await scope.run(["-p", `127.0.0.1:${metrics}:12346`, "-e", "SPOA_RATE_INTERVAL=3600000000", "-e", "SPOA_RATE_BURST=0", ...run]);

    const limits = await waitForContainerLog(id, "container limits");
    console.log(`container limits: start log ${JSON.stringify(limits)}`);
    expect(limits.memoryLimit).toBe("48.0 MiB");
    expect(limits.cpuLimit).toBe(1);
    // Sized from the limit: the default 1M keys when they fit the budget (they do at 48 MiB when the
    // start charge is small), fewer otherwise.
    expect(["limit", "default-fits"]).toContain(String(limits.maxKeysFrom));
    const maxKeys = Number(limits.memoryStoreMaxKeys);
    expect(maxKeys).toBeLessThanOrEqual(1_000_000);
    await waitForContainerLog(id, "listening");

    const flood = await floodIpv6({ port: spop, total: KEYS, connections: 4, window: 64, timeoutMs: 240_000 });
    const families = await scrape(metrics);
    const working = await cgroupMemoryBytes(id);
    const peak = await cgroupPeakBytes(id);
    console.log(`container limits: flood ${JSON.stringify(flood)}; keys ${valueOf(families, "spoa_memory_store_keys")} of ${maxKeys}, evictions ${valueOf(families, "spoa_memory_store_evictions_total")}; cgroup working set ${(working / MiB).toFixed(1)} MiB, peak usage ${peak > 0 ? `${(peak / MiB).toFixed(1)} MiB` : "not reported by this kernel"}`);
    expect(flood).toMatchObject({ acked: KEYS, closedEarly: 0, timedOut: false });
    expect(await inspect(id, "{{.State.OOMKilled}}")).toBe("false");
    expect(await inspect(id, "{{.State.Status}}")).toBe("running");
    expect(valueOf(families, "spoa_memory_store_max_keys")).toBe(maxKeys);
    // Every key lives an hour: each one beyond the bound evicted exactly one other.
    expect(valueOf(families, "spoa_memory_store_evictions_total")).toBe(KEYS - maxKeys);
  }, 300_000);
});
