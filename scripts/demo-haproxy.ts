/**
 * Which HAProxy `npm run demo` runs: `HAPROXY`, else `haproxy` on PATH or in /usr/sbin, else the
 * newest one the test environment installed (scripts/install-test-env.sh, run by `npm test`).
 * When there is none, one line that says what to run — a fresh machine's second command must not
 * end in a stack trace.
 * @module
 */
import { accessSync, constants, readdirSync } from "node:fs";
import { delimiter, join } from "node:path";

/** The HAProxy to run, or the one-line reason there is none. */
export type HaproxyChoice = { readonly path: string } | { readonly problem: string };

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function testEnvHaproxies(cache: string): string[] {
  let names: string[];
  try {
    names = readdirSync(join(cache, "bin"));
  } catch {
    return [];
  }
  const version = (name: string) => name.slice("haproxy-".length).split(".").map(Number);
  return names
    .filter((n) => /^haproxy-\d+\.\d+$/.test(n))
    .sort((a, b) => version(b)[0] - version(a)[0] || version(b)[1] - version(a)[1])
    .map((n) => join(cache, "bin", n));
}

/** Picks the demo's HAProxy from `env` (HAPROXY, PATH, SPOA_TEST_CACHE). */
export function chooseHaproxy(env: Readonly<Record<string, string | undefined>>, isExecutable: (path: string) => boolean = executable): HaproxyChoice {
  const chosen = env.HAPROXY;
  if (chosen !== undefined && chosen !== "") {
    return isExecutable(chosen) ? { path: chosen } : { problem: `HAPROXY=${chosen} is not an executable file: point it at an haproxy binary, or unset it` };
  }
  const cache = env.SPOA_TEST_CACHE ?? "/var/cache/spoa-gcra-test";
  const candidates = [...(env.PATH ?? "").split(delimiter).filter((d) => d !== "").map((d) => join(d, "haproxy")), "/usr/sbin/haproxy", ...testEnvHaproxies(cache)];
  const found = candidates.find(isExecutable);
  return found !== undefined
    ? { path: found }
    : { problem: `no HAProxy found (PATH, /usr/sbin, ${cache}/bin): run \`sudo bash scripts/install-test-env.sh\` (what npm test installs) or \`sudo apt-get install -y haproxy\`, or set HAPROXY=/path/to/haproxy` };
}
