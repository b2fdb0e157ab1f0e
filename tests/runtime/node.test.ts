// The Node adapter's listeners under the system Node: unix sockets, bind errors, reusePort and
// the HTTP bridge, read from tests/runtime/node-probe.ts's JSON report. Transport behaviour
// is the contract suite's (tests/contract/node-transport.contract.test.ts).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { resolve } from "node:path";
import { buildForNode, type NodeBundle } from "../helpers/node-build.ts";

const ROOT = resolve(import.meta.dir, "../..");

describe("node adapter under Node", () => {
  let bundle: NodeBundle;
  let facts: Record<string, any>;
  beforeAll(async () => {
    bundle = buildForNode("tests/runtime/node-probe.ts");
    const child = Bun.spawn(["node", bundle.file], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
    const timer = setTimeout(() => child.kill(), 30_000);
    const [out, err, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
    clearTimeout(timer);
    if (code !== 0) throw new Error(`node-probe exited ${code}: ${err}`);
    facts = JSON.parse(out);
  }, 60_000);
  afterAll(() => bundle?.remove());

  test("the probe ran under Node, detected as node, and loadAdapter() picked the Node adapter", () => {
    expect(facts.runtime).toBe("node");
    expect(facts.loaded).toBe("node");
    expect(Number(facts.node.split(".")[0])).toBeGreaterThanOrEqual(20);
  });

  test("a stale unix socket is replaced, the mode applied and bytes echo over it; a regular file is refused and kept", () => {
    expect(facts.unix).toEqual({
      address: expect.stringMatching(/^unix:.*stale\.sock$/),
      port: 0,
      mode: 0o660,
      isSocket: true,
      echoed: "ping",
      unixPeer: "unix",
    });
    expect(facts.regularFile).toMatchObject({ name: "RuntimeAdapterError", code: "unix-path-not-socket", stillThere: true });
  });

  test("a taken port fails with listen-failed naming the address", () => {
    expect(facts.portTaken).toMatchObject({ code: "listen-failed", message: expect.stringContaining("127.0.0.1:") });
  });

  test("reusePort binds twice where Node has it, and is a clear error where it does not", () => {
    const [major, minor] = facts.node.split(".").map(Number);
    if (major > 22 || (major === 22 && minor >= 12)) expect(facts.reusePort.first).toBe(facts.reusePort.second);
    else expect(facts.reusePortError).toMatchObject({ code: "reuse-port-unavailable", message: expect.stringContaining("Node 22.12") });
  });

  test("HTTP passes method, path, query, headers and body to the handler and its answer back", () => {
    expect(facts.http).toEqual({ address: expect.stringMatching(/^127\.0\.0\.1:\d+$/), status: 201, header: "yes", body: "POST /metrics?a=1 p payload" });
    expect(facts.httpThrow).toBe(500);
  });
});
