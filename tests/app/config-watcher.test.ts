import { afterEach, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigWatcher } from "../../src/app/config-watcher.ts";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "spoa-reload-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Starts a watcher that counts onChange calls. Short debounce and poll keep the tests quick. */
function watchCounting(file: string, options: { debounceMs?: number; pollMs?: number } = {}) {
  const state = { changes: 0 };
  const watcher = new ConfigWatcher({ file, onChange: () => state.changes++, debounceMs: options.debounceMs ?? 50, pollMs: options.pollMs ?? 200 });
  watcher.start();
  cleanups.push(() => watcher.close());
  return state;
}

/** Waits until `condition` holds, failing after a deadline instead of hanging. */
async function eventually(condition: () => boolean, deadlineMs = 5000): Promise<void> {
  const until = Date.now() + deadlineMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error("condition not met before the deadline");
    await Bun.sleep(20);
  }
}

describe("ConfigWatcher", () => {
  test("a write to the file triggers onChange", async () => {
    const dir = tempDir();
    const file = join(dir, "policy.yaml");
    writeFileSync(file, "workers: 1\n");
    const state = watchCounting(file);
    await Bun.sleep(30);
    writeFileSync(file, "workers: 2\n");
    await eventually(() => state.changes === 1);
  });

  test("a Kubernetes ConfigMap ..data symlink swap triggers onChange", async () => {
    const dir = tempDir();
    mkdirSync(join(dir, "..2026_x"));
    writeFileSync(join(dir, "..2026_x", "policy.yaml"), "workers: 1\n");
    symlinkSync("..2026_x", join(dir, "..data"));
    symlinkSync("..data/policy.yaml", join(dir, "policy.yaml"));
    const state = watchCounting(join(dir, "policy.yaml"));
    await Bun.sleep(30);

    // What the kubelet does: write a new timestamped dir, point a temporary symlink at it, rename it over ..data.
    mkdirSync(join(dir, "..2026_y"));
    writeFileSync(join(dir, "..2026_y", "policy.yaml"), "workers: 2\n");
    symlinkSync("..2026_y", join(dir, "..data_tmp"));
    renameSync(join(dir, "..data_tmp"), join(dir, "..data"));
    rmSync(join(dir, "..2026_x"), { recursive: true });
    await eventually(() => state.changes === 1);

    // The watcher follows the new target: a second swap is seen too.
    mkdirSync(join(dir, "..2026_z"));
    writeFileSync(join(dir, "..2026_z", "policy.yaml"), "workers: 3\n");
    symlinkSync("..2026_z", join(dir, "..data_tmp"));
    renameSync(join(dir, "..data_tmp"), join(dir, "..data"));
    await eventually(() => state.changes === 2);
  });

  test("a burst of writes is debounced into one onChange", async () => {
    const dir = tempDir();
    const file = join(dir, "policy.yaml");
    writeFileSync(file, "workers: 0\n");
    const state = watchCounting(file, { debounceMs: 300, pollMs: 10_000 });
    await Bun.sleep(30);
    for (let i = 1; i <= 10; i++) {
      writeFileSync(file, `workers: ${i}\n${"#".repeat(i)}\n`);
      await Bun.sleep(5);
    }
    await eventually(() => state.changes >= 1);
    await Bun.sleep(400);
    expect(state.changes).toBe(1);
  });

  test("an editor-style save (write a new file, rename it over the old one) triggers onChange", async () => {
    const dir = tempDir();
    const file = join(dir, "policy.yaml");
    writeFileSync(file, "workers: 1\n");
    const state = { changes: 0 };
    const watcher = new ConfigWatcher({ file, onChange: () => state.changes++, debounceMs: 20, pollMs: 100 });
    watcher.start();
    cleanups.push(() => watcher.close());
    writeFileSync(`${file}.new`, "workers: 22\n");
    renameSync(`${file}.new`, file);
    await eventually(() => state.changes === 1);
  });

  test("close() stops further notifications", async () => {
    const dir = tempDir();
    const file = join(dir, "policy.yaml");
    writeFileSync(file, "a: 1\n");
    const state = { changes: 0 };
    const watcher = new ConfigWatcher({ file, onChange: () => state.changes++, debounceMs: 20, pollMs: 50 });
    watcher.start();
    watcher.close();
    writeFileSync(file, "a: 2\n");
    await Bun.sleep(200);
    expect(state.changes).toBe(0);
  });
});
