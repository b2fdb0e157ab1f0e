// Every Kubernetes manifest and kustomization under deploy/ parses, the kustomize builds
// succeed (kustomize build, offline; no kubectl needed), and the fields that decide whether the sidecar works
// are right: native sidecar, probes, ports, env, security, resources, NetworkPolicy, and the
// OpenShift overlay without fixed UIDs.
import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { parseAllDocuments } from "yaml";
import { loadConfig } from "../../src/config/load.ts";
import { findTestEnvCommand } from "../helpers/test-env.ts";

const ROOT = resolve(import.meta.dir, "../..");
const DEPLOY = join(ROOT, "deploy");
// Debian's kustomize, from the root scripts/install-test-env.sh builds (or one on PATH).
const KUSTOMIZE = findTestEnvCommand("kustomize") ?? Bun.which("kustomize");

type Doc = Record<string, any>;

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return yamlFiles(path);
    return name.endsWith(".yaml") ? [path] : [];
  });
}

function parseDocs(text: string, label: string): Doc[] {
  return parseAllDocuments(text).map((doc) => {
    if (doc.errors.length > 0) throw new Error(`${label}: ${doc.errors[0].message}`);
    return doc.toJS() as Doc;
  }).filter((d) => d !== null);
}

/** `kustomize build dir` as parsed documents (works offline). */
function build(dir: string): Doc[] {
  if (!KUSTOMIZE) throw new Error("kustomize is not installed: run scripts/install-test-env.sh (npm test does it first)");
  const run = Bun.spawnSync([KUSTOMIZE, "build", join(DEPLOY, "kubernetes", dir)]);
  if (run.exitCode !== 0) throw new Error(`kustomize build ${dir} failed: ${run.stderr.toString()}`);
  return parseDocs(run.stdout.toString(), dir);
}

const find = (docs: Doc[], kind: string, name: string): Doc => {
  const doc = docs.find((d) => d.kind === kind && d.metadata?.name === name);
  if (!doc) throw new Error(`${kind}/${name} not found`);
  return doc;
};
const envOf = (container: Doc): Record<string, Doc> => Object.fromEntries((container.env ?? []).map((e: Doc) => [e.name, e]));

describe("deploy/ YAML files", () => {
  test("every YAML file parses as one or more documents", () => {
    const files = yamlFiles(DEPLOY);
    expect(files.length).toBeGreaterThan(10);
    for (const file of files) expect(parseDocs(readFileSync(file, "utf8"), file).length).toBeGreaterThan(0);
  });

  test("every file a kustomization names exists on disk", () => {
    for (const file of yamlFiles(DEPLOY).filter((f) => f.endsWith("kustomization.yaml"))) {
      const k = parseDocs(readFileSync(file, "utf8"), file)[0];
      const generated = [...(k.configMapGenerator ?? []), ...(k.secretGenerator ?? [])].flatMap((g: Doc) => g.files ?? []);
      const paths = [...(k.resources ?? []), ...(k.components ?? []), ...generated.map((f: string) => f.split("=").at(-1))];
      for (const path of paths) expect({ file, path, exists: existsSync(resolve(dirname(file), path)) }).toEqual({ file, path, exists: true });
    }
  });

  test("the base's policy.yaml is an exact copy of deploy/policy.example.yaml", () => {
    expect(readFileSync(join(DEPLOY, "kubernetes/base/policy.yaml"), "utf8")).toBe(readFileSync(join(DEPLOY, "policy.example.yaml"), "utf8"));
  });

  test("policy.example.yaml loads with the agent's config loader: per-IP, login, API-key and shadow limits", () => {
    const path = join(DEPLOY, "policy.example.yaml");
    const config = loadConfig({ args: { flags: { config: path } }, env: {}, readFile: (p) => readFileSync(p, "utf8") });
    expect(config.limits.map((l) => [l.name, l.shadow])).toEqual([["per-ip", false], ["login", false], ["api-key", false], ["search-shadow", true]]);
  });
});

describe("kubernetes base: HAProxy with spoa-gcra as a native sidecar", () => {
  const docs = build("base");
  const deployment = find(docs, "Deployment", "haproxy");
  const pod = deployment.spec.template.spec;
  const agent = pod.initContainers.find((c: Doc) => c.name === "spoa-gcra");
  const haproxy = pod.containers.find((c: Doc) => c.name === "haproxy");

  test("the agent is an initContainer with restartPolicy Always (native sidecar)", () => {
    expect(agent.restartPolicy).toBe("Always");
    expect(agent.image).toMatch(/spoa-gcra:/);
    expect(haproxy.image).toMatch(/haproxy:2\.6$/);
  });

  test("the agent's probes: liveness /healthz, readiness and startup /readyz, on port 12346", () => {
    const port = (p: Doc) => agent.ports.find((x: Doc) => x.name === p.httpGet.port)?.containerPort ?? p.httpGet.port;
    expect([agent.livenessProbe.httpGet.path, port(agent.livenessProbe)]).toEqual(["/healthz", 12346]);
    expect([agent.readinessProbe.httpGet.path, port(agent.readinessProbe)]).toEqual(["/readyz", 12346]);
    expect([agent.startupProbe.httpGet.path, port(agent.startupProbe)]).toEqual(["/readyz", 12346]);
    expect(agent.ports.map((p: Doc) => p.containerPort).sort()).toEqual([12345, 12346]);
  });

  test("agent and HAProxy agree on the SPOP address, and the agent gets the seed and Valkey variables", () => {
    const a = envOf(agent);
    const h = envOf(haproxy);
    expect(a.SPOE_ADDR.value).toBe("127.0.0.1:12345");
    expect(h.SPOA_ADDR.value).toBe("127.0.0.1:12345");
    expect(h.SPOE_CONF.value).toBe("/usr/local/etc/haproxy/spoe-ratelimit.conf");
    for (const name of ["SPOA_RATE_INTERVAL", "SPOA_RATE_BURST", "SPOA_RATE_TTL", "METRICS_ADDR", "CONFIG_FILE", "VALKEY_USERNAME", "VALKEY_PASSWORD_FILE"]) {
      expect(a[name]).toBeDefined();
    }
    expect(a.VALKEY_USERNAME.valueFrom.secretKeyRef.name).toBe("valkey-acl");
    expect(a.VALKEY_PASSWORD).toBeUndefined();
    const secretMount = agent.volumeMounts.find((m: Doc) => m.name === "valkey-acl");
    expect(a.VALKEY_PASSWORD_FILE.value).toBe(`${secretMount.mountPath}/password`);
  });

  test("both containers run non-root, read-only, without privileges, with RuntimeDefault seccomp", () => {
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    for (const c of [agent, haproxy]) {
      expect(c.securityContext).toMatchObject({
        runAsNonRoot: true,
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        capabilities: { drop: ["ALL"] },
        seccompProfile: { type: "RuntimeDefault" },
      });
    }
  });

  test("the agent's memory is sized from the measured cgroup charge (80Mi/128Mi), and Bun's GC sees the limit", () => {
    expect(agent.resources.requests.memory).toBe("80Mi");
    expect(agent.resources.limits.memory).toBe("128Mi");
    expect(envOf(agent).BUN_JSC_forceRAMSize.valueFrom.resourceFieldRef).toEqual({ containerName: "spoa-gcra", resource: "limits.memory" });
  });

  test("the generated ConfigMaps hold the very files of deploy/haproxy and the policy", () => {
    const volume = (name: string) => pod.volumes.find((v: Doc) => v.name === name);
    const haproxyCm = find(docs, "ConfigMap", volume("haproxy-config").configMap.name);
    expect(haproxyCm.data["haproxy.cfg"]).toBe(readFileSync(join(DEPLOY, "haproxy/haproxy.cfg"), "utf8"));
    expect(haproxyCm.data["spoe-ratelimit.conf"]).toBe(readFileSync(join(DEPLOY, "haproxy/spoe-ratelimit.conf"), "utf8"));
    const policyCm = find(docs, "ConfigMap", volume("policy").configMap.name);
    expect(policyCm.data["policy.yaml"]).toBe(readFileSync(join(DEPLOY, "policy.example.yaml"), "utf8"));
    const policyMount = agent.volumeMounts.find((m: Doc) => m.name === "policy");
    expect(envOf(agent).CONFIG_FILE.value).toBe(`${policyMount.mountPath}/policy.yaml`);
  });

  test("the NetworkPolicy lets only agent pods reach Valkey on 6379, and Valkey peers on 16379", () => {
    const policy = find(docs, "NetworkPolicy", "valkey-ingress");
    expect(policy.spec.podSelector.matchLabels).toEqual({ "app.kubernetes.io/name": "valkey" });
    const [clients, peers] = policy.spec.ingress;
    expect(clients.from).toEqual([{ podSelector: { matchLabels: { "spoa-gcra/valkey-client": "true" } } }]);
    expect(deployment.spec.template.metadata.labels["spoa-gcra/valkey-client"]).toBe("true");
    expect(clients.ports.map((p: Doc) => p.port)).toEqual([6379]);
    expect(peers.ports.map((p: Doc) => p.port).sort()).toEqual([16379, 6379]);
  });
});

describe("kubernetes overlays", () => {
  test("standalone-agent: an agent Deployment and Service, HAProxy without the sidecar pointed at it, port 12345 open to HAProxy pods only", () => {
    const docs = build("overlays/standalone-agent");
    const haproxyPod = find(docs, "Deployment", "haproxy").spec.template.spec;
    expect(haproxyPod.initContainers).toBeUndefined();
    expect(envOf(haproxyPod.containers[0]).SPOA_ADDR.value).toBe("spoa-gcra:12345");
    const agentPod = find(docs, "Deployment", "spoa-gcra").spec.template;
    const agent = agentPod.spec.containers[0];
    expect(envOf(agent).SPOE_ADDR.value).toBe("0.0.0.0:12345");
    expect(envOf(agent).VALKEY_URL.value).toBe("redis://valkey:6379");
    expect(agentPod.metadata.labels["spoa-gcra/valkey-client"]).toBe("true");
    const service = find(docs, "Service", "spoa-gcra");
    expect(service.spec.selector).toEqual({ "app.kubernetes.io/name": "spoa-gcra" });
    expect(find(docs, "Service", "spoa-gcra-metrics").spec.selector).toEqual({ "app.kubernetes.io/name": "spoa-gcra" });
    const policy = find(docs, "NetworkPolicy", "spoa-gcra-ingress");
    expect(policy.spec.podSelector.matchLabels).toEqual({ "app.kubernetes.io/name": "spoa-gcra" });
    const spop = policy.spec.ingress.find((rule: Doc) => rule.ports.some((p: Doc) => p.port === 12345));
    expect(spop.from).toEqual([{ podSelector: { matchLabels: { "app.kubernetes.io/name": "haproxy" } } }]);
    expect(find(docs, "Deployment", "haproxy").spec.template.metadata.labels["app.kubernetes.io/name"]).toBe("haproxy");
    // No other rule opens the SPOP port.
    expect(policy.spec.ingress.filter((rule: Doc) => rule.ports.some((p: Doc) => p.port === 12345))).toHaveLength(1);
  });

  test("dev adds one Valkey and points the agent at it", () => {
    const docs = build("overlays/dev");
    const agent = find(docs, "Deployment", "haproxy").spec.template.spec.initContainers[0];
    expect(envOf(agent).VALKEY_URL.value).toBe("redis://valkey:6379");
    expect(find(docs, "Deployment", "valkey").metadata.labels["app.kubernetes.io/name"]).toBe("valkey");
    find(docs, "Service", "valkey");
  });

  test("production runs three cluster-enabled Valkey primaries with AOF and a cluster-create Job", () => {
    const docs = build("overlays/production");
    const sts = find(docs, "StatefulSet", "valkey-cluster");
    expect(sts.spec.replicas).toBe(3);
    const args: string[] = sts.spec.template.spec.containers[0].args;
    expect(args[args.indexOf("--cluster-enabled") + 1]).toBe("yes");
    expect(args[args.indexOf("--appendonly") + 1]).toBe("yes");
    const job = find(docs, "Job", "valkey-cluster-init");
    expect(job.spec.template.spec.containers[0].args.join("\n")).toContain("--cluster create");
    const agent = find(docs, "Deployment", "haproxy").spec.template.spec.initContainers[0];
    expect(envOf(agent).VALKEY_NODES.value.split(",")).toHaveLength(3);
  });

  test("openshift has no runAsUser anywhere and a Route to the HAProxy Service", () => {
    const docs = build("overlays/openshift");
    expect(JSON.stringify(docs)).not.toContain("runAsUser");
    expect(JSON.stringify(docs)).not.toContain("fsGroup");
    const route = find(docs, "Route", "haproxy");
    expect(route.spec.to).toEqual({ kind: "Service", name: "haproxy" });
    find(docs, "Service", "haproxy");
  });
});
