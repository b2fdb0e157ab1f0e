// Where scripts/install-test-env.sh keeps what the tests run: debootstrap roots of newer Debian
// releases and one command per server version (haproxy-3.2, valkey-server-9, kustomize, …) in
// its bin/ directory. The script and the tests read the same SPOA_TEST_CACHE.
import { existsSync } from "node:fs";
import { join } from "node:path";

export const TEST_ENV_CACHE = process.env.SPOA_TEST_CACHE ?? "/var/cache/spoa-gcra-test";

/** The installed command `name` (e.g. "haproxy-3.2"), or undefined when it is not installed. */
export function findTestEnvCommand(name: string): string | undefined {
  const path = join(TEST_ENV_CACHE, "bin", name);
  return existsSync(path) ? path : undefined;
}

/** The installed command `name`; throws with the way to install it when it is missing. */
export function testEnvCommand(name: string): string {
  const path = findTestEnvCommand(name);
  if (path === undefined) throw new Error(`${join(TEST_ENV_CACHE, "bin", name)} is missing: run scripts/install-test-env.sh (npm test does it first)`);
  return path;
}
