/**
 * Reads this process's own cgroup files, v2 (unified) or v1 (one hierarchy per controller),
 * the way container runtimes expose limits: find the process's cgroup in /proc/self/cgroup,
 * then read the controller file there and in every ancestor (the tightest limit wins).
 *
 * With a cgroup namespace (most containers) the path is "/" and the files sit at the mount
 * root; without one (systemd services, this test machine) the path names a sub-directory.
 * @module
 */
import { readFileSync } from "node:fs";

/** Reads a file or returns undefined: a missing cgroup file just means "not limited here". */
export type ReadText = (path: string) => string | undefined;

/** The real file system. */
export const readText: ReadText = (path) => {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
};

const MOUNT = "/sys/fs/cgroup";

/** Where a controller's files are for this process: directories from its own cgroup up to the root. */
export interface CgroupDirs {
  readonly version: 1 | 2;
  /** Own cgroup first, then each ancestor, ending at the mount root. */
  readonly dirs: readonly string[];
}

/** The process's cgroup path for `controller` (v1) or the unified path (v2 line "0::/path"). */
export function cgroupPath(procSelfCgroup: string, controller: string | undefined): string | undefined {
  for (const line of procSelfCgroup.split("\n")) {
    const [id, controllers, path] = line.split(":", 3);
    if (path === undefined) continue;
    if (controller === undefined ? id === "0" && controllers === "" : controllers.split(",").includes(controller)) return path;
  }
  return undefined;
}

/** `/a/b` under `root` → [root/a/b, root/a, root]. */
function ancestry(root: string, path: string): string[] {
  const parts = path.split("/").filter((p) => p.length > 0);
  const dirs: string[] = [];
  for (let n = parts.length; n >= 0; n--) dirs.push([root, ...parts.slice(0, n)].join("/"));
  return dirs;
}

/**
 * The directories to read `controller`'s files from: v2 when the unified hierarchy has the
 * controller enabled, else the v1 hierarchy mounted at /sys/fs/cgroup/<v1Mount>.
 */
export function cgroupDirs(controller: "memory" | "cpu", read: ReadText = readText): CgroupDirs | undefined {
  const self = read("/proc/self/cgroup") ?? "0::/";
  const unified = cgroupPath(self, undefined);
  // A hybrid host (systemd's default on v1) has "0::/…" too, but no controllers there.
  if (unified !== undefined && (read(`${MOUNT}/cgroup.controllers`) ?? "").split(/\s+/).includes(controller)) {
    return { version: 2, dirs: existing(ancestry(MOUNT, unified), `${controller}.max`, read) };
  }
  const v1 = cgroupPath(self, controller);
  if (v1 === undefined && read(`${MOUNT}/${controller}/cgroup.procs`) === undefined) return undefined;
  const file = controller === "memory" ? "memory.limit_in_bytes" : "cpu.cfs_quota_us";
  return { version: 1, dirs: existing(ancestry(`${MOUNT}/${controller}`, v1 ?? "/"), file, read) };
}

/** Drops directories that are not visible (inside a cgroup namespace only the root is). */
function existing(dirs: string[], probe: string, read: ReadText): string[] {
  const seen = dirs.filter((dir) => read(`${dir}/${probe}`) !== undefined);
  return seen.length > 0 ? seen : dirs.slice(-1);
}

/** Parses a `memory.stat` file into name → value. */
export function parseStat(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    const [name, value] = line.split(" ");
    if (name && value !== undefined) out.set(name, Number(value));
  }
  return out;
}
