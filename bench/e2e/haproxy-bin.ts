/**
 * Which HAProxy executable runs a given version: 2.6 is the host's (on PATH), newer ones are the
 * wrappers scripts/install-test-env.sh puts in $SPOA_TEST_CACHE/bin (each `exec`s its root's
 * loader, so the PID we spawn is HAProxy's own and /proc/PID/stat is its CPU time).
 * @module
 */
import { existsSync } from "node:fs";

/** The versions of the test matrix. */
export const HAPROXY_VERSIONS = ["2.6", "3.0", "3.2", "3.4"] as const;
export type HaproxyVersion = (typeof HAPROXY_VERSIONS)[number];

/** Parses "2.6,3.2" into known versions; throws on anything else. */
export function parseVersions(text: string): HaproxyVersion[] {
  return text.split(",").map((v) => {
    const known = HAPROXY_VERSIONS.find((k) => k === v.trim());
    if (known === undefined) throw new Error(`unknown HAProxy version "${v}" (known: ${HAPROXY_VERSIONS.join(", ")})`);
    return known;
  });
}

/** The executable for `version`, or an error saying how to install it. */
export function haproxyBinary(version: HaproxyVersion): string {
  const cache = process.env.SPOA_TEST_CACHE ?? "/var/cache/spoa-gcra-test";
  const wrapper = `${cache}/bin/haproxy-${version}`;
  if (existsSync(wrapper)) return wrapper;
  if (version === "2.6") return "haproxy";
  throw new Error(`HAProxy ${version} is not installed (${wrapper}): run scripts/install-test-env.sh`);
}
