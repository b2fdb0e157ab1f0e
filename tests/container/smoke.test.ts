// The image as a user first meets it: the shipped Containerfile built with podman (local base
// images from Debian packages in place of oven/bun and distroless/cc, the only difference), then
// the `podman run` line of docs/deployment.md — an OpenShift-range UID, --read-only,
// --cap-drop=all, no-new-privileges, SPOP published on 127.0.0.1 — and a full SPOP exchange
// through the published port. Prints the image's figures (size, build time, start to listening,
// idle memory as the cgroup's charge) for docs/deployment.md; nothing here is timed as a pass/fail.
import { beforeAll, describe, expect, test } from "bun:test";
import { freePort } from "../helpers/ports.ts";
import { clientIp, connectSpop } from "../helpers/spop-socket.ts";
import { type AgentImage, containerSuite, cgroupMemoryBytes, inspect, podman, podmanUnavailable, waitForContainerLog } from "../helpers/podman.ts";
import { docCommand, replaceWord } from "./doc-commands.ts";

const unavailable = podmanUnavailable();
const DOC_IMAGE = "localhost/spoa-gcra:0.1.0";
const MiB = 2 ** 20;

describe.skipIf(unavailable !== undefined)(`container smoke: podman run as docs/deployment.md shows it${unavailable === undefined ? "" : ` (skipped: ${unavailable})`}`, () => {
  const { scope, image: built } = containerSuite("smoke");
  let image: AgentImage;

  beforeAll(() => {
    image = built();
    console.log(`container smoke: image ${image.ref} ${(image.sizeBytes / MiB).toFixed(1)} MiB, built in ${image.buildSeconds.toFixed(1)} s in this run (layer cache as it was)`);
  });

  test("docs/deployment.md's podman and docker commands are the same words", () => {
    const podmanRun = docCommand("podman", ["podman", "run"]);
    expect(docCommand("docker", ["docker", "run"])).toEqual(replaceWord(podmanRun, "podman", "docker"));
    expect(docCommand("docker", ["docker", "build"])).toEqual(replaceWord(docCommand("podman", ["podman", "build"]), "podman", "docker"));
    // The restricted-SCC shape is part of what the page promises.
    for (const word of ["--read-only", "--cap-drop=all", "no-new-privileges", "1000730000", "SPOE_ADDR=0.0.0.0:9000", "127.0.0.1:9000:9000"]) expect(podmanRun).toContain(word);
  });

  test("as UID 1000730000, read-only, no capabilities: HELLO, NOTIFY → ACK, GCRA denial, DISCONNECT 0 through 127.0.0.1", async () => {
    const port = await freePort();
    const argv = replaceWord(replaceWord(docCommand("podman", ["podman", "run"]), DOC_IMAGE, image.ref), "127.0.0.1:9000:9000", `127.0.0.1:${port}:9000`);
    // Added to the documented command: `-d`, the scope's label, and a limit slow enough that the
    // count below is exact however loaded the machine is (1/s, 5 at once; the default 100/s,
    // burst 21, refills every 10 ms).
    const id = await scope.run(["-e", "SPOA_RATE_INTERVAL=1000000", "-e", "SPOA_RATE_BURST=4000000", ...argv.slice(2)]);
    const listening = await waitForContainerLog(id, "listening");
    expect(listening.spop).toBe("0.0.0.0:9000");

    // What the kernel says about the process, from the host.
    const pid = await inspect(id, "{{.State.Pid}}");
    const status = await Bun.file(`/proc/${pid}/status`).text();
    expect(/^Uid:\s+(\d+)/m.exec(status)?.[1]).toBe("1000730000");
    expect(/^CapEff:\s+(\w+)/m.exec(status)?.[1]).toBe("0000000000000000");
    expect(/^NoNewPrivs:\s+(\d)/m.exec(status)?.[1]).toBe("1");
    expect(await inspect(id, "{{.HostConfig.ReadonlyRootfs}}")).toBe("true");

    // GCRA: five pass at once, then each is denied with a retry-after of one second.
    const spop = await connectSpop(port);
    try {
      const verdicts = await Promise.all(Array.from({ length: 8 }, () => spop.check(clientIp(17))));
      expect(verdicts.map((v) => [v.allowed, v.ipScore, v.retryAfter ?? null])).toEqual([
        ...Array.from({ length: 5 }, () => [true, 0, null]),
        ...Array.from({ length: 3 }, () => [false, 100, 1]),
      ]);
      // Another client has its own budget.
      expect((await spop.check(clientIp(18))).allowed).toBe(true);
    } finally {
      spop.close();
    }
    // A HAProxy-style goodbye: DISCONNECT 0 → AGENT-DISCONNECT 0, then the agent closes.
    const conn = await connectSpop(port);
    conn.notify(clientIp(19));
    await conn.waitForAcks(1);
    conn.client.disconnect(0);
    expect(await conn.ended).toEqual({});
    expect(conn.disconnect).toEqual({ status: 0, message: "normal" });

    // Figures for the docs (printed, not asserted).
    const started = Number(await inspect(id, "{{.State.StartedAt.UnixMilli}}"));
    const toListening = Date.parse(String(listening.ts)) - started;
    await Bun.sleep(1_000);
    const idle = await cgroupMemoryBytes(id);
    console.log(`container smoke: container start → "listening" ${toListening} ms (runc start to the agent's log line); idle cgroup working set ${(idle / MiB).toFixed(1)} MiB`);

    // --rm: once stopped, nothing of it is left.
    await podman(["stop", "-t", "10", id]);
    expect(await scope.containers()).toEqual([]);
  }, 60_000);
});
