// The seed's deployment shape: the agent as a container of its own, HAProxy (the 3.2 image with
// the 3.1+ config) in another, reaching it by name on a network of theirs; only HAProxy's port is
// published, on 127.0.0.1. The commands are docs/deployment.md's, run as written but for the
// names, the images and the host port.
import { beforeAll, describe, expect, test } from "bun:test";
import { type Seen, seen, series } from "../helpers/gcra-expect.ts";
import { httpRequest } from "../helpers/http-client.ts";
import { freePort, waitFor } from "../helpers/ports.ts";
import { baseImage, containerSuite, inspect, podman, podmanUnavailable, REPO_ROOT, waitForContainerLog } from "../helpers/podman.ts";
import { docCommands } from "./doc-commands.ts";
import { loginSeries } from "./example-policy.ts";

const unavailable = podmanUnavailable();

describe.skipIf(unavailable !== undefined)(`container standalone: the agent and HAProxy as two containers${unavailable === undefined ? "" : ` (skipped: ${unavailable})`}`, () => {
  const { scope, image: built } = containerSuite("standalone");
  const suffix = `-test-${process.pid}`;
  let port = 0;
  const ids: string[] = [];

  beforeAll(async () => {
    const image = built();
    port = await freePort();
    const words: Record<string, string> = {
      spoa: `spoa${suffix}`,
      "spoa-gcra": `spoa-gcra${suffix}`,
      haproxy: `haproxy${suffix}`,
      "SPOA_ADDR=spoa-gcra:12345": `SPOA_ADDR=spoa-gcra${suffix}:12345`,
      "localhost/spoa-gcra:0.1.0": image.ref,
      "docker.io/library/haproxy:3.2": baseImage("haproxy:3.2"),
      "127.0.0.1:8080:8080": `127.0.0.1:${port}:8080`,
    };
    const commands = docCommands("standalone").filter((argv) => argv[0] === "podman");
    expect(commands.map((argv) => argv.slice(0, 2).join(" "))).toEqual(["podman network", "podman run", "podman run"]);
    for (const argv of commands) {
      const words2 = argv.slice(1).map((w) => (words[w] ?? w).replaceAll("$PWD", REPO_ROOT));
      // The scope's label on what the test creates (and -d is in the documented runs already).
      const labelled = words2[0] === "network" ? ["network", "create", "--label", scope.label, ...words2.slice(2)] : ["run", "--label", scope.label, ...words2.slice(1)];
      const { stdout } = await podman(labelled);
      if (words2[0] === "run") ids.push(stdout.trim());
    }
  }, 600_000);


  test("HAProxy 3.2 reaches the agent by name: five logins pass, then 429 with Retry-After and RateLimit headers", async () => {
    const [agent, haproxy] = ids;
    await waitForContainerLog(agent, "listening");
    expect(await inspect(haproxy, "{{.Config.Image}}")).toBe(baseImage("haproxy:3.2"));
    // HAProxy may have checked the agent before it listened (start order): wait for its headers.
    let n = 0;
    await waitFor("HAProxy to answer with the agent's headers", async () =>
      (await httpRequest({ port, headers: { "X-Forwarded-For": `198.51.100.${++n}` } }, 2_000)).headers.has("ratelimit"), 30_000);
    const login = (): Promise<Seen> => httpRequest({ port, method: "POST", path: "/login", headers: { "X-Forwarded-For": "203.0.113.40" } }).then(seen);
    expect(await series(7, login)).toEqual(loginSeries(7));
    // SPOP is not published: the agent's container has no host port.
    expect(await inspect(agent, "{{json .NetworkSettings.Ports}}")).not.toContain("HostPort");
  }, 90_000);
});
