// The README's HAProxy facts agree with what the repository ships and tests: the versions it
// names, the SPOE path and the agent server line of its snippet, and the agent-first order.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseSections } from "../src/config/haproxy/cfg-text.ts";
import { ALL_HAPROXY_VERSIONS } from "./helpers/haproxy.ts";

const ROOT = resolve(import.meta.dir, "..");
const README = readFileSync(resolve(ROOT, "README.md"), "utf8");
const CFG = readFileSync(resolve(ROOT, "deploy/haproxy/haproxy.cfg"), "utf8");
const SNIPPET = /```haproxy\n([\s\S]*?)```/.exec(README)?.[1] ?? "";

describe("README: HAProxy", () => {
  test("names the HAProxy versions the suite runs, from the oldest to the newest", () => {
    expect(README).toContain(`every HAProxy from ${ALL_HAPROXY_VERSIONS[0]} to ${ALL_HAPROXY_VERSIONS.at(-1)} does`);
  });

  test("its snippet loads the SPOE config from the shipped haproxy.cfg's default directory", () => {
    const preset = parseSections(CFG).find((s) => s.kind === "global")?.lines.find((l) => l.words[0] === "presetenv" && l.words[1] === "SPOE_CONF")?.words[2];
    expect(preset).toBe("/usr/local/etc/haproxy/spoe-ratelimit.conf");
    expect(SNIPPET).toContain(`filter spoe engine ratelimit config ${preset}`);
  });

  test("its agent server line checks the agent as the shipped configs do (UP within 1.5 s of it listening)", () => {
    const options = (text: string) => /^\s*server \S+ \S+ (.*)$/m.exec(text)?.[1].trim();
    for (const file of ["haproxy.cfg", "haproxy-2.6.cfg", "haproxy-3.1.cfg"]) {
      expect(options(readFileSync(resolve(ROOT, "deploy/haproxy", file), "utf8"))).toBe("check inter 5s fastinter 500ms downinter 1s");
    }
    expect(options(SNIPPET)).toBe("check inter 5s fastinter 500ms downinter 1s");
  });

  test("the by-hand walkthrough starts the agent first and says why", () => {
    const section = README.slice(README.indexOf("## Point HAProxy at it"));
    expect(section).toContain("Start the agent first");
    expect(section.indexOf("npm start")).toBeLessThan(section.indexOf("haproxy -db"));
  });
});
