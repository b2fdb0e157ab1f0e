// Issue 5 end to end: the compiled binary as a restricted container runs it — an arbitrary
// unprivileged UID/GID (OpenShift style), from a read-only directory, with HOME unset, TMPDIR
// and the working directory not writable. It starts, serves a NOTIFY, exits 0 on SIGTERM. And it
// links only against libraries gcr.io/distroless/cc-debian12 provides.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { missingFromDistrolessCc } from "../deploy/distroless-libs.ts";
import { binaryPath } from "../helpers/agent-process.ts";
import { freePort, waitFor } from "../helpers/ports.ts";
import { clientIp, connectSpop, withDeadline } from "../helpers/spop-socket.ts";

const UID = 12345;
const GID = 12345;
const AS_NOBODY = ["setpriv", `--reuid=${UID}`, `--regid=${GID}`, "--clear-groups", "--no-new-privs"];

describe("the compiled binary under an arbitrary UID in a read-only directory", () => {
  let dir = "";
  let binary = "";

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "spoa-ro-"));
    binary = join(dir, "spoa-gcra");
    copyFileSync(binaryPath(), binary);
    chmodSync(binary, 0o555);
    // Owned by root, r-x for everyone: the agent's user can enter and run, never write.
    chmodSync(dir, 0o555);
  });

  afterAll(() => {
    if (dir !== "") {
      chmodSync(dir, 0o755);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("the directory really is not writable for that user", () => {
    const touch = Bun.spawnSync([...AS_NOBODY, "touch", join(dir, "probe")], { stderr: "pipe" });
    expect(touch.exitCode).not.toBe(0);
    expect(touch.stderr.toString()).toContain("Permission denied");
    const id = Bun.spawnSync([...AS_NOBODY, "id", "-u"]).stdout.toString().trim();
    expect(id).toBe(String(UID));
  });

  test("it starts, answers a NOTIFY and exits 0 on SIGTERM", async () => {
    const port = await freePort();
    // No HOME, TMPDIR pointing at the read-only dir, cwd read-only: only PATH is given.
    const child = Bun.spawn([...AS_NOBODY, binary, "serve", "--listen", `127.0.0.1:${port}`, "--metrics", "off"], {
      cwd: dir,
      env: { PATH: "/usr/bin:/bin", TMPDIR: dir },
      stdout: "pipe",
      stderr: "pipe",
    });
    let output = "";
    const drain = async (stream: ReadableStream<Uint8Array>) => {
      const decoder = new TextDecoder();
      for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) output += decoder.decode(chunk, { stream: true });
    };
    void drain(child.stdout);
    void drain(child.stderr);
    try {
      await waitFor("the binary to log listening", () => {
        if (child.exitCode !== null) throw new Error(`exited ${child.exitCode}:\n${output}`);
        return output.includes('"msg":"listening"');
      }, 20_000).catch((error: unknown) => {
        throw new Error(`${String(error)}\noutput:\n${output}`);
      });
      const listening = JSON.parse(output.split("\n").find((l) => l.includes('"msg":"listening"')) ?? "{}");
      expect(listening.pid).toBe(child.pid);

      const c = await connectSpop({ port });
      try {
        c.notify(clientIp(1));
        await c.waitForAcks(1, 5_000);
        expect(c.denied).toBe(0);
      } finally {
        c.destroy();
      }
      const status = Bun.spawnSync(["sh", "-c", `grep -E '^(Uid|Gid):' /proc/${child.pid}/status`]).stdout.toString();
      expect(status).toMatch(new RegExp(`Uid:\\s+${UID}\\s+${UID}`));
      expect(status).toMatch(new RegExp(`Gid:\\s+${GID}\\s+${GID}`));

      child.kill("SIGTERM");
      expect(await withDeadline(child.exited, 10_000, "the binary to exit")).toBe(0);
      expect(output).toContain('"msg":"stopped"');
      expect(output).not.toMatch(/"level":"(error|fatal)"/);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  }, 40_000);
});

describe("the compiled binary's shared libraries", () => {
  test("ldd lists only libraries gcr.io/distroless/cc-debian12 provides", () => {
    const ldd = Bun.spawnSync(["ldd", binaryPath()], { stdout: "pipe", stderr: "pipe" });
    expect(ldd.exitCode).toBe(0);
    const text = ldd.stdout.toString();
    expect(text).toContain("libc.so.6");
    expect(missingFromDistrolessCc(text)).toEqual([]);
  });
});
