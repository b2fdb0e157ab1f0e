import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { asListenFailure, ListenFailure, type ListenRole } from "../../src/cli/listen-failure.ts";
import { errnoOf, listenFailed } from "../../src/runtime/listen-address.ts";

const troubleshooting = readFileSync(resolve(import.meta.dir, "../../docs/troubleshooting.md"), "utf8");

function failure(role: ListenRole, address: string, cause: unknown): ListenFailure {
  const [host, port] = address.startsWith("unix:") ? ["", 0] : [address.slice(0, address.lastIndexOf(":")), Number(address.slice(address.lastIndexOf(":") + 1))];
  const runtimeAddress = address.startsWith("unix:") ? { kind: "unix" as const, path: address.slice(5) } : { kind: "tcp" as const, hostname: host, port };
  try {
    asListenFailure(role)(listenFailed(runtimeAddress, cause));
  } catch (error) {
    return error as ListenFailure;
  }
  throw new Error("asListenFailure did not throw");
}

const inUse = Object.assign(new Error("Failed to listen at 127.0.0.1"), { code: "EADDRINUSE" });

describe("ListenFailure.summary()", () => {
  test("names the address, the listener, the errno and the setting to change", () => {
    expect(failure("SPOP", "127.0.0.1:12345", inUse).summary()).toBe(
      "cannot listen on 127.0.0.1:12345 for SPOP: address already in use (EADDRINUSE) — another process listens there " +
        "(ss -ltnp 'sport = :12345' shows which); stop it, or set another address with --listen / SPOE_ADDR",
    );
    expect(failure("metrics", "127.0.0.1:12346", inUse).summary()).toContain("--metrics / METRICS_ADDR (or off)");
  });

  test("gives errno-specific advice", () => {
    const denied = Object.assign(new Error("x"), { code: "EACCES" });
    expect(failure("SPOP", "0.0.0.0:80", denied).summary()).toContain("CAP_NET_BIND_SERVICE");
    expect(failure("SPOP", "unix:/run/x/a.sock", denied).summary()).toContain("directory's permissions");
    expect(failure("SPOP", "unix:/nope/a.sock", Object.assign(new Error("x"), { code: "ENOENT" })).summary()).toContain("does not exist");
    expect(failure("SPOP", "10.9.9.9:1", Object.assign(new Error("x"), { code: "EADDRNOTAVAIL" })).summary()).toContain("no interface of this host");
  });

  test("docs/troubleshooting.md quotes exactly what the agent prints", () => {
    expect(troubleshooting).toContain(`spoa-gcra: ${failure("SPOP", "127.0.0.1:12345", inUse).summary()}\n`);
    expect(troubleshooting).toContain(`spoa-gcra: ${failure("metrics", "127.0.0.1:12346", inUse).summary()}\n`);
    for (const errno of ["EADDRINUSE", "EADDRNOTAVAIL", "EACCES", "ENOENT"]) expect(troubleshooting).toContain(`| \`${errno}\` |`);
    expect(troubleshooting).not.toContain("not listening");
  });
});

describe("errnoOf()", () => {
  test("reads `code` (Bun, Node, Deno 2) and falls back to Deno's error class names", () => {
    expect(errnoOf(inUse)).toBe("EADDRINUSE");
    expect(errnoOf(Object.assign(new Error("Address already in use (os error 98)"), { name: "AddrInUse" }))).toBe("EADDRINUSE");
    expect(errnoOf(new Error("something else"))).toBeUndefined();
    expect(errnoOf("not an error")).toBeUndefined();
  });
});
