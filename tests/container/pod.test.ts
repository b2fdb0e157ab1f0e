// The Kubernetes sidecar overlay (deploy/kubernetes/overlays/dev) rendered by kustomize and run
// with `podman kube play`: HAProxy and the agent in one pod sharing localhost (the agent on
// 127.0.0.1:12345 as shipped), Valkey in a pod of its own reached through the ACL user and the
// password file from the Secret. podman 4.3 cannot play the overlay as shipped: the variant played
// is tests/container/kube/kustomization.yaml, a kustomize transform of it whose comments name
// each construct podman 4.3 cannot play (the native sidecar first). What kustomize cannot do, the
// test does and says so: it creates the Secret as a podman secret (labelled), and it gives the
// Valkey pod the name of the `valkey` Service on the pod network (podman has no Services).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseAllDocuments, stringify } from "yaml";
import { type Seen, seen, series } from "../helpers/gcra-expect.ts";
import { waitFor } from "../helpers/ports.ts";
import { sumOf } from "../helpers/prometheus.ts";
import { findTestEnvCommand } from "../helpers/test-env.ts";
import { loginSeries } from "./example-policy.ts";
import { buildAgentImage, httpToContainer, inspect, PodmanScope, podman, podmanUnavailable, runCommand, scrapeContainer } from "../helpers/podman.ts";

const kustomize = findTestEnvCommand("kustomize");
const unavailable = podmanUnavailable() ?? (kustomize === undefined ? "kustomize is not installed" : undefined);
const POD_LABEL = "spoa-gcra.test=pod";

interface Manifest {
  readonly kind: string;
  readonly metadata: { readonly name: string };
  readonly [key: string]: unknown;
}

/**
 * The Secret as podman 4.3 reads it: it ignores stringData and writes each data value into the
 * secret volume as it stands, without base64-decoding it — so the plain values go into data.
 */
function forPodman43(secret: Manifest & { stringData?: Record<string, string>; data?: Record<string, string> }): Manifest {
  const { stringData, ...rest } = secret;
  const decoded = Object.fromEntries(Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, "base64").toString()]));
  return { ...rest, data: { ...decoded, ...stringData } };
}

/** The pod's address on the network `net` (through its infra container). */
async function podIp(pod: string, net: string): Promise<string> {
  const infra = await inspect(pod, "{{.InfraContainerID}}", "pod");
  return inspect(infra, `{{(index .NetworkSettings.Networks "${net}").IPAddress}}`);
}

/** An HTTP GET of `path` on the agent's metrics port, from inside the pod (HAProxy's container, bash's /dev/tcp). */
async function getInsidePod(container: string, path: string): Promise<string> {
  const script = `exec 3<>/dev/tcp/127.0.0.1/12346 && printf 'GET ${path} HTTP/1.0\\r\\nHost: pod\\r\\n\\r\\n' >&3 && cat <&3`;
  return (await podman(["exec", container, "bash", "-c", script])).stdout;
}

/**
 * Removes what playing `manifests` made: the pods (by the tests' label), the volumes kube play
 * makes of each ConfigMap and Secret (by name), and the podman secrets of the same names that
 * carry a spoa-gcra.test label (the test's own).
 */
async function removePlayed(manifests: readonly Manifest[]): Promise<void> {
  const pods = (await podman(["pod", "ps", "-q", "--filter", `label=${POD_LABEL}`], { allowFailure: true })).stdout.split("\n").filter((l) => l !== "");
  if (pods.length > 0) await podman(["pod", "rm", "-f", "-t", "2", ...pods], { allowFailure: true });
  for (const m of manifests.filter((x) => x.kind === "ConfigMap" || x.kind === "Secret")) {
    if ((await podman(["volume", "exists", m.metadata.name], { allowFailure: true })).code === 0) await podman(["volume", "rm", "-f", m.metadata.name], { allowFailure: true });
  }
  for (const m of manifests.filter((x) => x.kind === "Secret")) {
    const labels = await podman(["secret", "inspect", "--format", "{{json .Spec.Labels}}", m.metadata.name], { allowFailure: true });
    if (labels.code === 0 && labels.stdout.includes('"spoa-gcra.test"')) await podman(["secret", "rm", m.metadata.name]);
  }
}

describe.skipIf(unavailable !== undefined)(`container pod: the Kubernetes sidecar overlay with podman kube play${unavailable === undefined ? "" : ` (skipped: ${unavailable})`}`, () => {
  const scope = new PodmanScope("pod");
  const dir = mkdtempSync(join(tmpdir(), "spoa-pod-"));
  const net = `spoa-gcra-test-pod-${process.pid}`;
  let manifests: Manifest[] = [];
  let haproxyIp = "";

  beforeAll(async () => {
    await buildAgentImage();
    const rendered = await runCommand([kustomize as string, "build", "tests/container/kube"]);
    manifests = parseAllDocuments(rendered.stdout).map((d) => d.toJS() as Manifest);
    // What a run that was killed may have left (the pod and volume names are fixed).
    await removePlayed(manifests);
    await scope.network(net);
    // The Secret, as a podman secret the test owns (kube play would create it without a label),
    // in the form podman 4.3 reads (forPodman43).
    for (const secret of manifests.filter((m) => m.kind === "Secret")) {
      const file = join(dir, `${secret.metadata.name}.yaml`);
      writeFileSync(file, stringify(forPodman43(secret as Manifest & { stringData?: Record<string, string> })));
      await podman(["secret", "create", "--label", scope.label, secret.metadata.name, file]);
    }
    const play = async (name: string, docs: readonly Manifest[]) => {
      const file = join(dir, name);
      writeFileSync(file, docs.map((d) => stringify(d)).join("---\n"));
      await podman(["kube", "play", "--network", net, file], { timeoutMs: 120_000 });
    };
    const isValkey = (m: Manifest) => m.kind === "Deployment" && m.metadata.name === "valkey";
    await play("valkey.yaml", manifests.filter(isValkey));
    // The `valkey` Service: its name on the pod network for the Valkey pod.
    const valkeyInfra = await inspect("valkey-pod-0", "{{.InfraContainerID}}", "pod");
    await podman(["network", "disconnect", net, valkeyInfra]);
    await podman(["network", "connect", "--alias", "valkey", net, valkeyInfra]);
    await play("haproxy.yaml", manifests.filter((m) => m.kind !== "Secret" && !isValkey(m)));
    haproxyIp = await podIp("haproxy-pod-0", net);
  }, 600_000);

  afterAll(async () => {
    await removePlayed(manifests);
    await scope.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  test("the transform keeps the shipped Secret's values where podman 4.3 needs them written in", () => {
    const secret = manifests.find((m) => m.kind === "Secret") as Manifest & { stringData: Record<string, string> };
    const text = stringify(manifests.filter((m) => m.kind === "Deployment"));
    expect(text).toContain(`value: ${secret.stringData.username}`);
    expect(text).toContain(`value: ${secret.stringData.password}`);
    // The native sidecar is what the shipped overlay has; the variant makes it a container.
    expect(text).not.toContain("initContainers");
    expect(text).not.toContain("$(VALKEY_");
  });

  test("HAProxy and the agent share the pod's localhost; /healthz and /readyz answer inside the pod", async () => {
    for (const container of ["haproxy-pod-0-spoa-gcra", "haproxy-pod-0-haproxy", "valkey-pod-0-valkey"]) {
      expect({ container, state: await inspect(container, "{{.State.Status}}") }).toEqual({ container, state: "running" });
    }
    // One pod, one network namespace: the agent's container joins the pod's infra container's.
    expect(await inspect("haproxy-pod-0-spoa-gcra", "{{.Pod}}")).toBe(await inspect("haproxy-pod-0-haproxy", "{{.Pod}}"));
    // As the manifest's securityContext says: UID 65532, a read-only root.
    const pid = await inspect("haproxy-pod-0-spoa-gcra", "{{.State.Pid}}");
    expect(/^Uid:\s+(\d+)/m.exec(await Bun.file(`/proc/${pid}/status`).text())?.[1]).toBe("65532");
    expect(await inspect("haproxy-pod-0-spoa-gcra", "{{.HostConfig.ReadonlyRootfs}}")).toBe("true");
    await waitFor("/readyz inside the pod", async () => (await getInsidePod("haproxy-pod-0-haproxy", "/readyz")).startsWith("HTTP/1.1 200"), 20_000);
    expect(await getInsidePod("haproxy-pod-0-haproxy", "/healthz")).toMatch(/^HTTP\/1\.1 200/);
  }, 60_000);

  test("through the pod: five logins pass, then 429 with Retry-After and RateLimit headers, decided by Valkey", async () => {
    const metrics = () => scrapeContainer(haproxyIp);
    await waitFor("the agent to reach Valkey as the ACL user", async () => sumOf(await metrics(), "spoa_valkey_reachable") === 1, 30_000);
    // HAProxy answers with the agent's headers (the agent is UP for it; failing open would send none).
    let n = 0;
    await waitFor("HAProxy to answer with the agent's headers", async () =>
      (await httpToContainer(haproxyIp, { port: 8080, headers: { "X-Forwarded-For": `198.51.100.${++n}` } }, 2_000)).headers.has("ratelimit"), 30_000);
    const login = (): Promise<Seen> => httpToContainer(haproxyIp, { port: 8080, method: "POST", path: "/login", headers: { "X-Forwarded-For": "203.0.113.30" } }).then(seen);
    expect(await series(7, login)).toEqual(loginSeries(7));
    const after = await metrics();
    expect(sumOf(after, "spoa_decisions_total", { limit: "login", result: "deny" })).toBe(2);
    expect(sumOf(after, "spoa_degraded_decisions_total")).toBe(0);
    // HAProxy's view of the agent: its last state change, if any, is UP. (Without the native
    // sidecar's ordering HAProxy may start first and see it DOWN once: what the shipped overlay's
    // initContainer + startupProbe prevents, and podman 4.3 cannot play.)
    const changes = (await podman(["logs", "haproxy-pod-0-haproxy"])).stdout.match(/Server be_spoa_ratelimit\/spoa is (UP|DOWN)/g) ?? [];
    expect(changes.at(-1) ?? "Server be_spoa_ratelimit/spoa is UP").toBe("Server be_spoa_ratelimit/spoa is UP");
  }, 90_000);
});
