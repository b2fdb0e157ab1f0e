import { describe, expect, test } from "bun:test";
import { formatIssue } from "../../src/config/errors.ts";
import { loadConfig } from "../../src/config/load.ts";
import { configWarnings } from "../../src/config/warnings.ts";

const load = (policy: string) => loadConfig({ args: { flags: { config: "/p.yaml" } }, env: {}, readFile: () => policy });

describe("configWarnings()", () => {
  test("names a matcher on an argument the shipped SPOE config does not send, with the name it probably meant", () => {
    const config = load("limits:\n  - { name: login, rate: 5/m, match: { pth: { prefix: /login } } }\n");
    expect(configWarnings(config).map(formatIssue)).toEqual([
      `limits[0].match.pth: argument "pth" is not one the shipped spoe-ratelimit.conf sends (ip_fwd, ip_xff, ip_src, path, method, host, api_key, api_key_count): unless your SPOE config sends it, the condition never holds, so the limit never applies — did you mean "path"? check against your files with --haproxy haproxy.cfg [--spoe spoe.conf]`,
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

describe("configWarnings(): an empty policy file", () => {
  for (const [what, text] of [["empty", ""], ["comment-only", "# limits come later\n"], ["an empty map", "{}\n"]] as const) {
    test(`${what}: names the default limit that will actually run`, () => {
      expect(configWarnings(load(text)).map(formatIssue)).toEqual([
        "/p.yaml: the file holds no settings (empty or only comments): the agent runs the default limit \"default\", 100/s with bursts of 21 per client — add your limits (see `spoa-gcra help config` and deploy/policy.example.yaml), or set SPOA_RATE_INTERVAL / SPOA_RATE_BURST and drop the file",
      ]);
    });
  }

  test("a file with settings but no limits is not empty", () => {
    expect(configWarnings(load("listen: 127.0.0.1:12345\n"))).toEqual([]);
  });
});
