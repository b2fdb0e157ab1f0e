// `check-config --haproxy`: configurations HAProxy itself loads without a word (`haproxy -c`
// says valid) but that do not rate limit as the policy means, each caught with file, line and
// fix; and the shipped files, which every HAProxy version loads, caught with nothing.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { checkHaproxyConfig, HAPROXY_VERSIONS, haproxyLabel, writeTempFiles } from "../helpers/haproxy.ts";
import { runCli } from "../helpers/run-cli.ts";

const ROOT = resolve(import.meta.dir, "../..");
const CFG = readFileSync(resolve(ROOT, "deploy/haproxy/haproxy.cfg"), "utf8");
const SPOE = readFileSync(resolve(ROOT, "deploy/haproxy/spoe-ratelimit.conf"), "utf8");

const BROKEN: readonly { name: string; cfg?: string; spoe?: string; policy?: string; finding: string }[] = [
  {
    name: "a rule reads txn.rl.remaining, which the default ACK does not set",
    cfg: CFG.replace("    use_backend", '    http-after-response set-header X-Remaining "%[var(txn.rl.remaining)]"\n    use_backend'),
    finding: "error: reads txn.rl.remaining, but this configuration's ACK does not set it",
  },
  { name: "no rule denies on the agent's decision", cfg: CFG.replace(/^    http-request return status 429 .*$/m, ""), finding: "error: no http-request rule denies on the agent's decision" },
  {
    name: "the SPOE sends another message than the agent answers",
    spoe: SPOE.replace("messages check-rate", "messages rate-limit").replace("spoe-message check-rate", "spoe-message rate-limit"),
    finding: "error: spoe-agent ratelimit-agent sends the messages rate-limit, but the agent answers only check-rate",
  },
  {
    name: "a limit matches on an argument the message does not send",
    policy: "limits:\n  - { name: login, rate: 5/m, match: { pth: { prefix: /login } } }\n",
    finding: `warning: limits[0].match.pth (login) reads argument "pth", which spoe-message check-rate does not send`,
  },
];

for (const version of HAPROXY_VERSIONS) {
  describe(`check-config --haproxy, ${haproxyLabel(version)}`, () => {
    test("the shipped haproxy.cfg and spoe-ratelimit.conf load and fit the default policy", async () => {
      expect(checkHaproxyConfig(resolve(ROOT, "deploy/haproxy/haproxy.cfg"), { SPOE_CONF: resolve(ROOT, "deploy/haproxy/spoe-ratelimit.conf") }, version).code).toBe(0);
      const run = await runCli("bun", ["check-config", "--haproxy", resolve(ROOT, "deploy/haproxy/haproxy.cfg"), "--haproxy-version", version], { SPOE_CONF: resolve(ROOT, "deploy/haproxy/spoe-ratelimit.conf") });
      expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: "" });
      expect(run.stdout).toContain("HAProxy configuration OK");
    }, 30_000);

    for (const broken of BROKEN) {
      test(`HAProxy loads it, check-config names it: ${broken.name}`, async () => {
        const files = writeTempFiles({ "haproxy.cfg": broken.cfg ?? CFG, "spoe.conf": broken.spoe ?? SPOE, "policy.yaml": broken.policy ?? "{ listen: 127.0.0.1:12345 }\n" });
        const env = { SPOE_CONF: files["spoe.conf"] };
        const loaded = checkHaproxyConfig(files["haproxy.cfg"], env, version);
        expect({ code: loaded.code }).toEqual({ code: 0 });
        const run = await runCli("bun", ["check-config", "--config", files["policy.yaml"], "--haproxy", files["haproxy.cfg"], "--haproxy-version", version], env);
        expect(run.stderr).toMatch(new RegExp(`${files.dir}/(haproxy\\.cfg|spoe\\.conf):\\d+: ${broken.finding.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`));
        expect(run.code).toBe(broken.finding.startsWith("error") ? 2 : 0);
      }, 30_000);
    }
  });
}
