import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { checkHaproxy } from "../../src/config/haproxy/check.ts";
import { parseSections, splitWords } from "../../src/config/haproxy/cfg-text.ts";
import { formatFinding, type HaproxyFinding } from "../../src/config/haproxy/findings.ts";
import { spoeEngine } from "../../src/config/haproxy/spoe-model.ts";
import { SHIPPED_SPOE_ARGS } from "../../src/config/limit-args.ts";
import { loadConfig } from "../../src/config/load.ts";
import type { AgentConfig } from "../../src/config/schema.ts";
import { SEED_RULES, SEED_SPOE } from "../fixtures/seed-haproxy.ts";
import { spoeFrontendConfig } from "../helpers/haproxy.ts";

const ROOT = resolve(import.meta.dir, "../..");
const shipped = (name: string) => readFileSync(resolve(ROOT, "deploy/haproxy", name), "utf8");
const CFG = shipped("haproxy.cfg");
const SPOE = shipped("spoe-ratelimit.conf");

function config(flags: Record<string, string> = {}, policy?: string): AgentConfig {
  return loadConfig({ args: { flags: policy === undefined ? flags : { ...flags, config: "/p.yaml" } }, env: {}, readFile: () => policy ?? "" });
}

function check(files: { cfg?: string; spoe?: string; version?: string; config?: AgentConfig }): HaproxyFinding[] {
  const texts: Record<string, string> = { "/h.cfg": files.cfg ?? CFG, "/s.conf": files.spoe ?? SPOE };
  return checkHaproxy({
    config: files.config ?? config(),
    haproxyFile: "/h.cfg",
    spoeFile: "/s.conf",
    ...(files.version === undefined ? {} : { version: files.version }),
    env: {},
    readFile: (path) => {
      const text = texts[path];
      if (text === undefined) throw new Error(`ENOENT: no such file, open '${path}'`);
      return text;
    },
  });
}

const lineOf = (text: string, needle: string) => text.split("\n").findIndex((l) => l.includes(needle)) + 1;

describe("splitWords()", () => {
  test("splits like HAProxy: quotes, escapes, comments, ${VAR} inside double quotes only", () => {
    expect(splitWords(`  server spoa "\${SPOA_ADDR}" check # the agent`, (n) => (n === "SPOA_ADDR" ? "127.0.0.1:1" : ""))).toEqual(["server", "spoa", "127.0.0.1:1", "check"]);
    expect(splitWords(`http-request return string "Too Many Requests" if { var(txn.rl.allowed) -m found }`)).toEqual([
      "http-request", "return", "string", "Too Many Requests", "if", "{", "var(txn.rl.allowed)", "-m", "found", "}",
    ]);
    expect(splitWords(`a '\${X}' b\\ c`, () => "no")).toEqual(["a", "${X}", "b c"]);
  });
});

describe("checkHaproxy(): the shipped and the seed's configurations are clean", () => {
  test("SHIPPED_SPOE_ARGS is what deploy/haproxy/spoe-ratelimit.conf sends", () => {
    const engine = spoeEngine(parseSections(SPOE), "ratelimit");
    const args = engine?.messageSections.get("check-rate")?.args.map((a) => [a.name, a.sample]);
    expect(args).toEqual([...SHIPPED_SPOE_ARGS]);
  });

  for (const [file, versions] of [["haproxy.cfg", ["2.6", "3.0", "3.2", "3.4"]], ["haproxy-2.6.cfg", ["2.6", "3.0"]], ["haproxy-3.1.cfg", ["3.2", "3.4"]]] as const) {
    for (const version of versions) {
      test(`deploy/haproxy/${file} with spoe-ratelimit.conf for HAProxy ${version}: no finding, default config and the example policy`, () => {
        expect(check({ cfg: shipped(file), version }).map(formatFinding)).toEqual([]);
        const example = readFileSync(resolve(ROOT, "deploy/policy.example.yaml"), "utf8");
        expect(check({ cfg: shipped(file), version, config: config({}, example) }).map(formatFinding)).toEqual([]);
      });
    }
  }

  test("the seed deployment's haproxy.cfg and SPOE config (sess.rl.ip_score ge 80) with the seed's default limit", () => {
    const cfg = spoeFrontendConfig({ frontendPort: 8080, server: "127.0.0.1:12345", spoeFile: "/s.conf", rules: SEED_RULES, version: "3.2" });
    expect(check({ cfg, spoe: SEED_SPOE, version: "3.2", config: config({ "valkey-url": "redis://127.0.0.1:6379" }) }).map(formatFinding)).toEqual([]);
  });

  test("the SPOE path in the filter line is followed, with presetenv defaults and the environment", () => {
    const findings = checkHaproxy({
      config: config(),
      haproxyFile: "/h.cfg",
      env: { SPOE_CONF: "/mine/spoe.conf" },
      readFile: (path) => ({ "/h.cfg": CFG, "/mine/spoe.conf": SPOE } as Record<string, string>)[path] ?? (() => { throw new Error(`ENOENT ${path}`); })(),
    });
    expect(findings).toEqual([]);
    const missing = checkHaproxy({ config: config(), haproxyFile: "/h.cfg", env: {}, readFile: (p) => (p === "/h.cfg" ? CFG : (() => { throw new Error(`ENOENT ${p}`); })()) });
    expect(missing.map(formatFinding)).toEqual([
      `/h.cfg:${lineOf(CFG, "filter spoe")}: error: cannot read the SPOE config /usr/local/etc/haproxy/spoe-ratelimit.conf: ENOENT /usr/local/etc/haproxy/spoe-ratelimit.conf — pass the file HAProxy loads with --spoe FILE`,
    ]);
  });
});

interface Broken {
  readonly name: string;
  readonly cfg?: (text: string) => string;
  readonly spoe?: (text: string) => string;
  readonly version?: string;
  readonly config?: () => AgentConfig;
  /** file ("cfg" or "spoe"), the line's text (to find its number), severity and a part of the message. */
  readonly expected: readonly [file: "cfg" | "spoe", line: string, severity: "error" | "warning", message: string][];
}

const BROKEN: readonly Broken[] = [
  {
    name: "the lean ACK's trap: a rule reads txn.rl.remaining, which haproxy.variables does not list",
    cfg: (t) => t.replace("    use_backend", '    http-after-response set-header X-Remaining "%[var(txn.rl.remaining)]"\n    use_backend'),
    expected: [["cfg", "X-Remaining", "error", "reads txn.rl.remaining, but this configuration's ACK does not set it"]],
  },
  {
    name: "a variable the agent never sets, with the name it meant",
    cfg: (t) => t.replace("!{ var(txn.rl.allowed) -m bool }", "!{ var(txn.rl.alowed) -m bool }"),
    expected: [["cfg", "txn.rl.alowed", "error", "reads txn.rl.alowed, which the agent never sets"]],
  },
  {
    name: "ip_score read in the wrong scope",
    cfg: (t) => t.replace("    use_backend", "    http-request deny deny_status 429 if { var(txn.rl.ip_score) -m int ge 80 }\n    use_backend"),
    expected: [["cfg", "txn.rl.ip_score", "error", "the agent sets ip_score in scope sess"]],
  },
  {
    name: "no 429 rule reads the agent's decision",
    cfg: (t) => t.replace(/^    http-request return status 429 .*$/m, ""),
    expected: [["cfg", "filter spoe", "error", "no http-request rule denies on the agent's decision"]],
  },
  {
    name: "a bare deny with hdr drops the Retry-After header",
    cfg: (t) => t.replace(/^    http-request return status 429 content-type text\/plain string "Too Many Requests" hdr/m, "    http-request deny deny_status 429 hdr"),
    expected: [["cfg", "http-request deny deny_status 429 hdr", "warning", "a deny without a body drops its hdr arguments"]],
  },
  {
    name: "the message name differs from the agent's",
    spoe: (t) => t.replace(/^    messages .*$/m, "    messages rate-limit").replace("spoe-message check-rate", "spoe-message rate-limit"),
    expected: [["spoe", "messages rate-limit", "error", "sends the messages rate-limit, but the agent answers only check-rate"]],
  },
  {
    name: "the message has no event",
    spoe: (t) => t.replace("    event on-frontend-http-request", ""),
    expected: [["spoe", "spoe-message check-rate", "error", "spoe-message check-rate has no event"]],
  },
  {
    name: "a backend event cannot feed the frontend's rules",
    spoe: (t) => t.replace("event on-frontend-http-request", "event on-backend-http-request"),
    expected: [["cfg", "filter spoe", "error", "http-request rules run before a backend event"]],
  },
  {
    name: "a TCP event sees no HTTP request",
    spoe: (t) => t.replace("event on-frontend-http-request", "event on-client-session"),
    expected: [["spoe", "event on-client-session", "warning", "runs before HAProxy has parsed the HTTP request"]],
  },
  {
    name: "a limit's match, key and cost read arguments HAProxy does not send (pth, user, cost)",
    config: () => config({}, "limits:\n  - { name: login, rate: 5/m, match: { pth: { prefix: /login } } }\n  - { name: api, rate: 10/s, key: [identity, \"arg:user\"], cost: { arg: cost } }\n"),
    expected: [
      ["spoe", "args ip_fwd", "warning", `limits[0].match.pth (login) reads argument "pth", which spoe-message check-rate does not send: the condition never holds`],
      ["spoe", "args ip_fwd", "warning", `limits[1].key[1] (api) reads argument "user"`],
      ["spoe", "args ip_fwd", "warning", `limits[1].cost.arg (api) reads argument "cost"`],
    ],
  },
  {
    name: "no client address is sent",
    spoe: (t) => t.replace(" ip_src=src", ""),
    expected: [["spoe", "args ip_fwd", "error", "does not send ip_src, the client's address"]],
  },
  {
    name: "var-prefix differs from haproxy.varPrefix, and the rules read the SPOE's prefix",
    spoe: (t) => t.replace(/^    option var-prefix rl$/m, "    option var-prefix ratelimit"),
    expected: [
      ["spoe", "    option var-prefix ratelimit", "warning", `the variables appear as txn.ratelimit.*, but haproxy.varPrefix is "rl"`],
      ["cfg", "filter spoe", "error", "no http-request rule denies on the agent's decision (var(txn.ratelimit.allowed)"],
    ],
  },
  {
    name: "timeout processing not above the Valkey deadline",
    spoe: (t) => t.replace("timeout processing 100ms", "timeout processing 50ms"),
    config: () => config({ "valkey-url": "redis://127.0.0.1:6379" }),
    expected: [["spoe", "timeout processing 50ms", "error", "timeout processing 50 ms is not above the agent's Valkey deadline 50 ms"]],
  },
  {
    name: "no timeout processing",
    spoe: (t) => t.replace("    timeout processing 100ms", ""),
    expected: [["spoe", "spoe-agent ratelimit-agent", "warning", "has no `timeout processing`"]],
  },
  {
    name: "no option pipelining",
    spoe: (t) => t.replace("    no option async", "    no option async\n    no option pipelining"),
    expected: [["spoe", "no option pipelining", "warning", "one request at a time per agent connection"]],
  },
  {
    name: "mode spop on HAProxy 2.6",
    cfg: () => shipped("haproxy-3.1.cfg"),
    version: "2.6",
    expected: [["cfg", "    mode spop", "error", "uses mode spop, which HAProxy 3.0 and older refuse on HAProxy 2.6"]],
  },
  {
    name: "the agent backend inherits mode http",
    cfg: (t) => t.replace(/^    mode tcp$/m, ""),
    expected: [["cfg", "backend be_spoa_ratelimit", "error", "runs in mode http (from defaults)"]],
  },
  {
    name: "a server without checks, and one checked by TCP only and slowly",
    cfg: (t) => t.replace("    option spop-check\n", "").replace(/check inter 5s fastinter 500ms downinter 1s/, "check inter 5s\n    server spoa2 127.0.0.1:1"),
    expected: [
      ["cfg", "server spoa \"", "warning", "is checked by a TCP connect only"],
      ["cfg", "server spoa \"", "warning", "stays DOWN for up to 10 s after it listens"],
      ["cfg", "server spoa2", "warning", "server spoa2 has no check"],
    ],
  },
  {
    name: "use-backend names no backend",
    spoe: (t) => t.replace("use-backend be_spoa_ratelimit", "use-backend be_agent"),
    expected: [["spoe", "use-backend be_agent", "error", "haproxy.cfg has no such backend"]],
  },
  {
    name: "no filter spoe at all",
    cfg: (t) => t.replace(/^    filter spoe .*$/m, ""),
    expected: [["cfg", "frontend fe_web", "error", "no `filter spoe` line"]],
  },
];

describe("checkHaproxy(): broken configurations, each finding with file, line and fix", () => {
  for (const broken of BROKEN) {
    test(broken.name, () => {
      const cfg = broken.cfg?.(CFG) ?? CFG;
      const spoe = broken.spoe?.(SPOE) ?? SPOE;
      const findings = check({ cfg, spoe, ...(broken.version === undefined ? {} : { version: broken.version }), ...(broken.config === undefined ? {} : { config: broken.config() }) });
      const shape = findings.map((f) => [f.file === "/h.cfg" ? "cfg" : "spoe", f.line, f.severity]);
      const expected = broken.expected.map(([file, line, severity]) => [file, lineOf(file === "cfg" ? cfg : spoe, line), severity]);
      expect(shape).toEqual(expected);
      broken.expected.forEach(([, , , message], i) => expect(findings[i].message).toContain(message));
      for (const f of findings) expect(f.fix.length).toBeGreaterThan(10);
    });
  }
});
