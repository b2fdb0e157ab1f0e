// `podman stop` of the agent's container under load, as a rolling update stops it: SIGTERM to the
// agent (PID 1 in the container), every NOTIFY written before the stop is ACKed — the documented
// bound on lost NOTIFYs is zero (docs/deployment.md, "Rolling restarts and drain") — then each
// connection gets AGENT-DISCONNECT 0, and the container exits 0 well within podman's grace.
import { describe, expect, test } from "bun:test";
import { DisconnectStatus } from "../../src/spop/types.ts";
import { freePort, waitFor } from "../helpers/ports.ts";
import { connectMany, startLoad } from "../helpers/spop-load.ts";
import { withDeadline } from "../helpers/spop-socket.ts";
import { containerSuite, inspect, podman, podmanUnavailable, waitForContainerLog } from "../helpers/podman.ts";

const unavailable = podmanUnavailable();
const STOP_TIMEOUT_S = 20;

describe.skipIf(unavailable !== undefined)(`container drain: podman stop under load${unavailable === undefined ? "" : ` (skipped: ${unavailable})`}`, () => {
  const { scope, image } = containerSuite("drain");

  test("every NOTIFY sent before the stop is ACKed, then DISCONNECT 0 on each connection; exit code 0", async () => {
    const port = await freePort();
    const id = await scope.run(["--read-only", "-e", "SPOE_ADDR=0.0.0.0:9000", "-p", `127.0.0.1:${port}:9000`, image().ref]);
    await waitForContainerLog(id, "listening");
    const connections = await connectMany({ port }, 8);
    try {
      const load = startLoad(connections, { window: 16, keys: 500 });
      await waitFor("load to be running", () => load.acked() >= 1_500, 20_000);
      load.topUp();
      load.stop();
      const sentBefore = load.sent();
      const started = performance.now();
      const stop = podman(["stop", "-t", String(STOP_TIMEOUT_S), id]);
      await withDeadline(Promise.all(connections.map((c) => c.ended)), STOP_TIMEOUT_S * 1000, "every connection to be closed by the agent");
      await stop;
      const seconds = (performance.now() - started) / 1000;
      const lost = sentBefore - load.acked();
      console.log(`container drain: ${sentBefore} NOTIFYs sent before podman stop, ${lost} lost; stopped in ${seconds.toFixed(2)} s`);
      expect(lost).toBe(0);
      for (const c of connections) {
        expect(c.disconnect).toEqual({ status: DisconnectStatus.NORMAL, message: expect.any(String) });
        expect(c.framesAfterDisconnect).toBe(0);
      }
      expect(await inspect(id, "{{.State.ExitCode}}")).toBe("0");
      // SIGTERM drained it: podman did not have to send SIGKILL after its timeout.
      expect(seconds).toBeLessThan(STOP_TIMEOUT_S);
      const logs = (await podman(["logs", id])).stdout;
      expect(logs).toContain('"msg":"draining"');
      expect(logs).toContain('"msg":"stopped"');
    } finally {
      for (const c of connections) c.destroy();
    }
  }, 120_000);
});
