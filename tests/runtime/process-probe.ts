// Run under bun or deno by process.test.ts to exercise src/runtime/process.ts for real:
//   parent  → spawnWorker(["child", "x"], { SPOA_PROBE: "42" }) and report the child's exit code
//   child   → print what it sees, exit 7
//   signal  → wait for SIGTERM via onSignal, then exit 0
import { args, env, exit, onSignal, selfCommand, spawnWorker, write } from "../../src/runtime/process.ts";
import { detectRuntime } from "../../src/runtime/detect.ts";

const [mode, ...rest] = args();
if (mode === "parent") {
  write("out", `parent self=${JSON.stringify(selfCommand())}\n`);
  const child = spawnWorker(["child", ...rest], { SPOA_PROBE: "42" });
  write("out", `parent exit=${await child.exited}\n`);
  exit(0);
} else if (mode === "child") {
  write("out", `child runtime=${detectRuntime()} args=${JSON.stringify(rest)} env=${env().SPOA_PROBE}\n`);
  exit(7);
} else if (mode === "signal") {
  onSignal("SIGTERM", () => {
    write("out", "got SIGTERM\n");
    exit(0);
  });
  write("out", "ready\n");
  setInterval(() => {}, 1000);
}
