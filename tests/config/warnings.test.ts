import { describe, expect, test } from "bun:test";
import { formatIssue } from "../../src/config/errors.ts";
import { loadConfig } from "../../src/config/load.ts";
import { configWarnings } from "../../src/config/warnings.ts";

const load = (policy: string) => loadConfig({ args: { flags: { config: "/p.yaml" } }, env: {}, readFile: () => policy });

describe("configWarnings()", () => {
  test("names a matcher on an argument the shipped SPOE config does not send, with the name it probably meant", () => {
    const config = load("limits:\n  - { name: login, rate: 5/m, match: { pth: { prefix: /login } } }\n");
    expect(configWarnings(config).map(formatIssue)).toEqual([
      `limits[0].match.pth: argument "pth" is not one the shipped spoe-ratelimit.conf sends (ip_fwd, ip_xff, ip_src, path, method, host, api_key): unless your SPOE config sends it, the condition never holds, so the limit never applies — did you mean "path"? check against your files with --haproxy haproxy.cfg [--spoe spoe.conf]`,
    ]);
  });

  test("names a cost and a key argument HAProxy does not send by default; none once the SPOE config is checked itself", () => {
    const config = load("limits:\n  - { name: api, rate: 10/s, key: [identity, \"arg:user\"], cost: { arg: cost } }\n");
    expect(configWarnings(config).map((w) => w.path)).toEqual(["limits[0].key[1]", "limits[0].cost.arg"]);
    expect(configWarnings(config)[1].message).toContain("every request costs the default");
    expect(configWarnings(config, { spoeKnown: true })).toEqual([]);
  });

  test("the shipped arguments and the default limit warn about nothing", () => {
    expect(configWarnings(load("limits:\n  - { name: k, rate: 1/s, match: { path: { prefix: / }, method: { in: [GET] }, api_key: { regex: \"^[0-9A-F]+$\" } }, key: [identity, \"arg:host\"] }\n"))).toEqual([]);
  });
});
