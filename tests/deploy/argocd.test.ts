// deploy/argocd: one Argo CD Application per kustomize overlay, each pointing at a path that
// exists and builds, inside the project's allowed repositories and namespaces.
import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parse } from "yaml";
import { findTestEnvCommand } from "../helpers/test-env.ts";

const ROOT = resolve(import.meta.dir, "../..");
const DIR = join(ROOT, "deploy/argocd");
// Debian's kustomize from scripts/install-test-env.sh (or one on PATH): no kubectl needed.
const KUSTOMIZE = findTestEnvCommand("kustomize") ?? Bun.which("kustomize");

type Doc = Record<string, any>;
const load = (file: string): Doc => parse(readFileSync(join(DIR, file), "utf8")) as Doc;
const applications = readdirSync(DIR).filter((f) => f.endsWith(".yaml") && f !== "kustomization.yaml" && f !== "project.yaml").map((file) => ({ file, doc: load(file) }));
const project = load("project.yaml");
const overlays = readdirSync(join(ROOT, "deploy/kubernetes/overlays"));

/** Argo CD's destination namespace patterns are globs. */
const globMatches = (pattern: string, value: string) => new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replaceAll("*", ".*")}$`).test(value);

describe("deploy/argocd", () => {
  test("there is one Application per kustomize overlay", () => {
    expect(applications.map((a) => a.doc.spec.source.path.split("/").at(-1)).sort()).toEqual([...overlays].sort());
  });

  test("every Application is an argoproj.io/v1alpha1 Application in the spoa-gcra project", () => {
    expect(project).toMatchObject({ apiVersion: "argoproj.io/v1alpha1", kind: "AppProject", metadata: { name: "spoa-gcra" } });
    for (const { file, doc } of applications) {
      expect({ file, apiVersion: doc.apiVersion, kind: doc.kind, project: doc.spec.project }).toEqual({ file, apiVersion: "argoproj.io/v1alpha1", kind: "Application", project: "spoa-gcra" });
      expect(doc.metadata.name).toBe(`spoa-gcra-${file.replace(/\.yaml$/, "")}`);
    }
  });

  test("every source path exists in this repository, holds a kustomization and comes from an allowed repository", () => {
    for (const { file, doc } of applications) {
      const path = join(ROOT, doc.spec.source.path);
      expect({ file, kustomization: existsSync(join(path, "kustomization.yaml")) }).toEqual({ file, kustomization: true });
      expect(project.spec.sourceRepos).toContain(doc.spec.source.repoURL);
      expect(doc.spec.source.targetRevision).toBeString();
    }
  });

  test("every destination is allowed by the project", () => {
    for (const { file, doc } of applications) {
      const { server, namespace } = doc.spec.destination;
      const allowed = (project.spec.destinations as Doc[]).some((d) => d.server === server && globMatches(d.namespace, namespace));
      expect({ file, namespace, allowed }).toEqual({ file, namespace, allowed: true });
    }
  });

  test("every Application's path builds with kustomize, and so does the app-of-apps", () => {
    if (!KUSTOMIZE) throw new Error("kustomize is not installed: run scripts/install-test-env.sh (npm test does it first)");
    for (const path of [...applications.map((a) => join(ROOT, a.doc.spec.source.path)), DIR]) {
      const run = Bun.spawnSync([KUSTOMIZE, "build", path]);
      expect({ path, code: run.exitCode, err: run.stderr.toString() }).toEqual({ path, code: 0, err: "" });
    }
  });
});
