// `npm run release` (scripts/release.ts): one executable per platform with the version in its
// name and SHA256SUMS that `sha256sum -c` accepts. The linux-x64 build runs here; the linux-arm64
// build runs under Debian's qemu-user-static with an aarch64 glibc unpacked from Debian's libc6
// (scripts/install-container-env.sh) and answers SPOP; the musl builds are checked for what they
// are (their libstdc++ is Alpine's, which Debian does not ship: the test says so).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../helpers/ports.ts";
import { clientIp, connectSpop } from "../helpers/spop-socket.ts";
import { TEST_ENV_CACHE } from "../helpers/test-env.ts";
import { REPO_ROOT, runCommand } from "../helpers/podman.ts";
import { compileCommand, RELEASE_TARGETS, type ReleaseTarget, releaseName } from "../../scripts/release.ts";

const VERSION = (JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as { version: string }).version;
const SYSROOT = join(TEST_ENV_CACHE, "sysroots/arm64");
const QEMU = Bun.which("qemu-aarch64-static");
const qemuMissing = QEMU === null
  ? "qemu-user-static is not installed (scripts/install-test-env.sh installs it)"
  : !existsSync(join(SYSROOT, "lib/ld-linux-aarch64.so.1")) ? `no aarch64 glibc in ${SYSROOT} (the installer could not fetch libc6:arm64)` : undefined;

/** ELF header facts: machine (62 x86-64, 183 aarch64) and the program interpreter. */
function elf(file: string): { readonly machine: number; readonly interpreter: string } {
  const bytes = readFileSync(file);
  expect([...bytes.subarray(0, 4)]).toEqual([0x7f, 0x45, 0x4c, 0x46]);
  const interpreter = /\/lib[^\0]*\/ld-[^\0]+/.exec(bytes.subarray(0, 4096).toString("latin1"))?.[0] ?? "";
  return { machine: bytes.readUInt16LE(18), interpreter };
}

describe("release: npm run release builds the downloads", () => {
  const out = mkdtempSync(join(tmpdir(), "spoa-release-"));
  const file = (target: ReleaseTarget) => join(out, releaseName(VERSION, target));

  beforeAll(async () => {
    const { stdout } = await runCommand([join(REPO_ROOT, "node_modules/.bin/bun"), "scripts/release.ts", "--out", out], { timeoutMs: 300_000 });
    console.log(`release:\n${stdout.trimEnd()}`);
  }, 300_000);

  afterAll(() => rmSync(out, { recursive: true, force: true }));

  test("uses package.json's compile flags", () => {
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> };
    expect(compileCommand(pkg.scripts.compile)).toEqual({ flags: ["--compile", "--minify", "--bytecode", "--sourcemap"], entry: "src/cli/main.ts" });
    expect(() => compileCommand("deno compile main.ts")).toThrow("not a bun build");
  });

  test("one executable per target, the version in its name, SHA256SUMS that sha256sum -c accepts", async () => {
    const sums = readFileSync(join(out, "SHA256SUMS"), "utf8").trim().split("\n");
    expect(sums.map((l) => l.split("  ")[1])).toEqual(Object.keys(RELEASE_TARGETS).map((t) => `spoa-gcra-${VERSION}-${t}`));
    const check = await runCommand(["sha256sum", "-c", "SHA256SUMS"], { cwd: out });
    expect(check.stdout.trim().split("\n").every((l) => l.endsWith(": OK"))).toBe(true);
    expect(elf(file("linux-x64"))).toEqual({ machine: 62, interpreter: "/lib64/ld-linux-x86-64.so.2" });
    expect(elf(file("linux-arm64"))).toEqual({ machine: 183, interpreter: "/lib/ld-linux-aarch64.so.1" });
    expect(elf(file("linux-x64-musl"))).toEqual({ machine: 62, interpreter: "/lib/ld-musl-x86_64.so.1" });
    expect(elf(file("linux-arm64-musl"))).toEqual({ machine: 183, interpreter: "/lib/ld-musl-aarch64.so.1" });
    console.log("release: the musl builds are not run here: they need Alpine's libstdc++ (musl), which Debian does not package");
  }, 60_000);

  test("linux-x64 runs here and says its version", async () => {
    const { stdout } = await runCommand([file("linux-x64"), "version"]);
    expect(stdout.trim()).toBe(`spoa-gcra ${VERSION} (bun)`);
  });

  test.skipIf(qemuMissing !== undefined)(`linux-arm64 under qemu-aarch64-static: version, then serve and answer a NOTIFY${qemuMissing === undefined ? "" : ` (skipped: ${qemuMissing})`}`, async () => {
    const qemu = [QEMU as string, "-L", SYSROOT, file("linux-arm64")];
    expect((await runCommand([...qemu, "version"])).stdout.trim()).toBe(`spoa-gcra ${VERSION} (bun)`);
    const port = await freePort();
    const agent = Bun.spawn([...qemu, "serve", "--listen", `127.0.0.1:${port}`, "--metrics", "off"], { stdout: "pipe", stderr: "pipe" });
    try {
      // The agent logs JSON lines; wait for "listening" (JIT under emulation takes a few seconds).
      const reader = agent.stdout.getReader();
      let seen = "";
      const deadline = Date.now() + 60_000;
      while (!seen.includes('"msg":"listening"') && Date.now() < deadline) {
        const { value, done } = await reader.read();
        if (done) break;
        seen += new TextDecoder().decode(value);
      }
      reader.releaseLock();
      expect(seen).toContain('"runtime":"bun"');
      const spop = await connectSpop(port, { timeoutMs: 20_000 });
      try {
        expect((await spop.check(clientIp(7))).allowed).toBe(true);
      } finally {
        spop.close();
      }
    } finally {
      agent.kill("SIGTERM");
      expect(await agent.exited).toBe(0);
    }
  }, 120_000);
});
