import { describe, expect, test } from "bun:test";
import { ValkeyStoreError } from "../../../src/ratelimit/valkey/errors.ts";
import { credentialsOf, topologyOf, type ValkeyStoreOptions } from "../../../src/ratelimit/valkey/options.ts";

const base: ValkeyStoreOptions = { keyPrefix: "rl:", deadlineMs: 10, connections: 1, batch: true };

describe("topologyOf()", () => {
  test("reads redis:// and valkey:// alike, with the db from the path", () => {
    for (const scheme of ["redis", "valkey"]) {
      expect(topologyOf({ ...base, url: `${scheme}://cache.internal:6380/3` })).toEqual({ kind: "standalone", host: "cache.internal", port: 6380, tls: false, db: 3 });
    }
  });

  test("rediss:// and valkeys:// turn TLS on, for a URL and for cluster nodes", () => {
    expect(topologyOf({ ...base, url: "valkeys://v:6379" })).toMatchObject({ tls: true });
    expect(topologyOf({ ...base, url: "rediss://v:6379" })).toMatchObject({ tls: true });
    expect(topologyOf({ ...base, nodes: ["valkey://a:7000", "valkeys://b:7001"] })).toMatchObject({ kind: "cluster", tls: true });
  });

  test("refuses another scheme without echoing the URL (it may hold a password)", () => {
    let error: unknown;
    try {
      topologyOf({ ...base, url: "http://user:s3cret@v:6379" });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ValkeyStoreError);
    expect((error as Error).message).not.toContain("s3cret");
  });

  test("credentials in a valkey:// URL are used unless options name others", () => {
    expect(credentialsOf({ ...base, url: "valkey://agent:p%40ss@v:6379" })).toEqual({ username: "agent", password: "p@ss" });
    expect(credentialsOf({ ...base, url: "valkey://agent:p@v:6379", password: "other" })).toEqual({ username: "agent", password: "other" });
  });
});
