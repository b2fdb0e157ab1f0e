#!/usr/bin/env -S bun run
/**
 * spoa-gcra's entry point: `serve`, `check-config`, `help`, `version`. The same file runs
 * under `bun run`, `deno run` and as the `bun build --compile` binary.
 * @module
 */
import { readFileSync } from "node:fs";
import { isHelpTopic, parseCliArgs, UsageError } from "./args.ts";
import { flagsNpmTook } from "./npm-flags.ts";
import { adminCommand } from "./admin-commands.ts";
import { checkConfigCommand, probeCommand } from "./check-config.ts";
import { helpText } from "./help.ts";
import { serve } from "./serve.ts";
import { topCommand } from "./top-command.ts";
import { VERSION } from "./version.ts";
import { hostProcess } from "../runtime/process.ts";

async function main(): Promise<number> {
  const host = hostProcess();
  const write = (stream: "out" | "err") => (text: string) => host.write(stream, text.endsWith("\n") ? text : text + "\n");
  const lost = flagsNpmTook(host.env());
  if (lost.length > 0) {
    const flags = lost.map((f) => `--${f}`).join(", ");
    write("err")(`spoa-gcra: npm took ${flags} for itself and never passed ${lost.length === 1 ? "it" : "them"} on: put the agent's flags after --, e.g. npm start -- --${lost[0]} ...`);
    return 2;
  }
  let args;
  try {
    args = parseCliArgs(host.args());
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    write("err")(`spoa-gcra: ${error.message}\nRun "spoa-gcra --help" for usage.`);
    return 2;
  }
  switch (args.command) {
    case "help":
      write("out")(helpText(args.positionals[0] !== undefined && isHelpTopic(args.positionals[0]) ? args.positionals[0] : undefined));
      return 0;
    case "version":
      write("out")(`spoa-gcra ${VERSION} (${host.runtime})`);
      return 0;
    case "check-config": {
      const io = { env: host.env(), readFile: (path: string) => readFileSync(path, "utf8"), stdout: write("out"), stderr: write("err") };
      const code = checkConfigCommand(args, io);
      return code === 0 && args.flags.probe === true ? await probeCommand(args, io) : code;
    }
    case "inspect":
    case "reset":
      return await adminCommand(args.command, args, { env: host.env(), readFile: (path) => readFileSync(path, "utf8"), stdout: write("out"), stderr: write("err") });
    case "top":
      return await topCommand(args, { env: host.env(), readFile: (path) => readFileSync(path, "utf8"), stdout: write("out"), stderr: write("err") });
    case "serve":
      return await serve(args, host);
  }
}

main().then(
  (code) => hostProcess().exit(code),
  (error) => {
    const host = hostProcess();
    const env = host.env();
    // The stack helps whoever debugs the agent, not whoever runs it: only when asked for.
    const debug = /\b(debug|trace)\b/i.test(env.LOG_LEVEL ?? env.RUST_LOG ?? "");
    const message = error instanceof Error
      ? (debug ? (error.stack ?? error.message) : `${error.message} (LOG_LEVEL=debug shows the stack)`)
      : String(error);
    host.write("err", `spoa-gcra: fatal: ${message}\n`);
    host.exit(1);
  },
);
