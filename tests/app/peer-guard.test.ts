import { describe, expect, test } from "bun:test";
import type { Transport } from "../../src/agent/transport.ts";
import { exposureWarning, guardPeers, isLoopbackListen, peerIp } from "../../src/app/peer-guard.ts";
import { createTelemetry } from "../../src/app/telemetry.ts";
import { createLogger } from "../../src/observe/log.ts";
import { Registry } from "../../src/observe/metrics.ts";
import { formatIp } from "../../src/ratelimit/identity/ip.ts";

const tcp = (hostname: string) => ({ kind: "tcp" as const, hostname, port: 12345 });

describe("peer-guard", () => {
  test("isLoopbackListen() is true for 127.0.0.0/8, ::1, localhost and unix sockets only", () => {
    for (const host of ["127.0.0.1", "127.3.2.1", "::1", "[::1]", "localhost"]) expect(isLoopbackListen(tcp(host))).toBe(true);
    for (const host of ["0.0.0.0", "::", "10.0.0.5", "[::]"]) expect(isLoopbackListen(tcp(host))).toBe(false);
    expect(isLoopbackListen({ kind: "unix", path: "/run/spoa.sock" })).toBe(true);
  });

  test("exposureWarning() speaks only for a port beyond loopback, and names allowedPeers", () => {
    expect(exposureWarning(tcp("127.0.0.1"), [])).toBeUndefined();
    expect(exposureWarning(tcp("0.0.0.0"), [])).toContain("no authentication");
    expect(exposureWarning(tcp("0.0.0.0"), [])).toContain("allowedPeers");
    expect(exposureWarning(tcp("0.0.0.0"), ["10.0.0.0/8"])).toContain("only peers in allowedPeers");
  });

  test("peerIp() reads IPv4, bracketed and bare IPv6 and IPv4-mapped remote addresses", () => {
    const text = (remote: string) => {
      const ip = peerIp(remote);
      return ip === undefined ? undefined : formatIp(ip);
    };
    expect(text("10.0.0.5:41234")).toBe("10.0.0.5");
    expect(text("[2001:db8::1]:5")).toBe("2001:db8::1");
    expect(text("2001:db8::1:5")).toBe("2001:db8::1");
    expect(text("::ffff:10.0.0.5:5")).toBe("10.0.0.5");
    expect(text("unix")).toBeUndefined();
  });

  test("guardPeers() closes a connection from outside the list without handing it to the engine, and telemetry counts it", () => {
    const registry = new Registry();
    const lines: string[] = [];
    const logger = createLogger({ level: "info", sink: (line) => lines.push(line), clock: { nowUs: () => 0 }, base: {} });
    const telemetry = createTelemetry({ registry, logger, pid: 1, memoryUsage: () => ({ rss: 0, heapUsed: 0 }), version: "test", lagTimers: false });
    const accepted: string[] = [];
    const accept = (t: Transport) => {
      accepted.push(t.remoteAddress);
      return { receive() {}, drained() {}, closed() {} };
    };
    const guarded = guardPeers(accept, ["10.0.0.0/8", "2001:db8::/32"], telemetry.peerRefused);
    const ended: string[] = [];
    const transport = (remoteAddress: string): Transport => ({
      remoteAddress,
      write: () => true,
      end: () => ended.push(remoteAddress),
      pause() {},
      resume() {},
    });
    for (const remote of ["10.1.2.3:1", "192.0.2.1:2", "[2001:db8::7]:3", "unix", "garbage"]) guarded(transport(remote));
    expect(accepted).toEqual(["10.1.2.3:1", "[2001:db8::7]:3", "unix"]);
    expect(ended).toEqual(["192.0.2.1:2", "garbage"]);
    expect(registry.render()).toContain("spoa_connections_refused_total 2");
    expect(lines.join("")).toContain("outside allowedPeers");
  });

  test("guardPeers() with an empty list returns the handler unchanged (and telemetry still exports the counter at 0)", () => {
    const registry = new Registry();
    const logger = createLogger({ level: "off", sink: () => {}, clock: { nowUs: () => 0 }, base: {} });
    const telemetry = createTelemetry({ registry, logger, pid: 1, memoryUsage: () => ({ rss: 0, heapUsed: 0 }), version: "test", lagTimers: false });
    const accept = () => ({ receive() {}, drained() {}, closed() {} });
    expect(guardPeers(accept, [], telemetry.peerRefused)).toBe(accept);
    expect(registry.render()).toContain("spoa_connections_refused_total 0");
  });
});
