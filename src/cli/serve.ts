/**
 * `spoa-gcra serve`: reads and checks the configuration, prints what is wrong with it, starts
 * the workers or the agent (app/agent-app.ts builds it), and turns signals into calls:
 * SIGHUP reloads, SIGTERM/SIGINT drain and exit.
 * @module
 */
import { readFileSync } from "node:fs";
import { ConfigError } from "../config/errors.ts";
import { loadConfig } from "../config/load.ts";
import { configWarnings } from "../config/warnings.ts";
import type { AgentConfig } from "../config/schema.ts";
import { createLogger, type Logger } from "../observe/log.ts";
import { systemClock } from "../runtime/host-time.ts";
import type { HostProcess } from "../runtime/process.ts";
import type { ParsedArgs } from "./args.ts";
import { checkConfigCommand, configErrorText } from "./check-config.ts";
import { asListenFailure, ListenFailure } from "./listen-failure.ts";
import { systemProbes } from "../app/host/probes.ts";
import { startAgentApp } from "../app/agent-app.ts";
import { VERSION } from "./version.ts";
import { superviseWorkers, WORKER_ENV, workerCount } from "../app/workers.ts";

/** Exit code for bad usage or configuration (documented in --help). */
const EXIT_USAGE = 2;
/** Exit code when the agent cannot start (an address it cannot bind). */
const EXIT_FAILURE = 1;

function readConfig(args: ParsedArgs, host: HostProcess): AgentConfig {
  return loadConfig({ args, env: host.env(), readFile: (path) => readFileSync(path, "utf8") });
}

/** Runs the agent until a signal ends it; resolves with the exit code. */
export async function serve(args: ParsedArgs, host: HostProcess): Promise<number> {
  let config: AgentConfig;
  try {
    config = readConfig(args, host);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    host.write("err", `spoa-gcra: ${configErrorText(error)}`);
    return EXIT_USAGE;
  }
  if (args.flags.validate === true) {
    // The same report as `check-config`, so both ways of validating read alike.
    return checkConfigCommand(args, {
      env: host.env(),
      readFile: (path) => readFileSync(path, "utf8"),
      stdout: (text) => host.write("out", text.endsWith("\n") ? text : text + "\n"),
      stderr: (text) => host.write("err", text.endsWith("\n") ? text : text + "\n"),
    });
  }

  const workerId = host.env()[WORKER_ENV];
  const logger = createLogger({
    level: config.logLevel,
    sink: (line) => host.write("out", line),
    clock: systemClock,
    base: workerId === undefined ? { pid: host.pid } : { pid: host.pid, worker: Number(workerId) },
  });
  if (workerId === undefined) {
    for (const warning of configWarnings(config)) logger.warn("config warning", { field: warning.path, problem: warning.message, fix: warning.fix });
  }
  const workers = workerCount(config, systemProbes);
  if (workers > 1 && workerId === undefined) return await superviseWorkers(workers, config, { host, logger, probes: systemProbes });
  try {
    return await runAgent(config, { host, logger, reusePort: workerId !== undefined, args, processes: workers });
  } catch (error) {
    if (!(error instanceof ListenFailure)) throw error;
    // A taken port is an operator's problem, not a crash: one line, and the stack only when asked.
    const debug = config.logLevel === "debug" || config.logLevel === "trace";
    host.write("err", `spoa-gcra: ${error.summary()}\n${debug ? `${error.error.stack ?? ""}\n` : ""}`);
    return EXIT_FAILURE;
  }
}

/** Serves until the first SIGTERM/SIGINT drains it (a second one exits at once); SIGHUP reloads. */
async function runAgent(
  config: AgentConfig,
  deps: { readonly host: HostProcess; readonly logger: Logger; readonly reusePort: boolean; readonly args: ParsedArgs; readonly processes: number },
): Promise<number> {
  const { host, logger } = deps;
  const app = await startAgentApp(
    config,
    {
      runtime: host.runtime,
      pid: host.pid,
      env: host.env,
      memoryUsage: host.memoryUsage,
      readConfig: () => readConfig(deps.args, host),
      probes: systemProbes,
    },
    { logger, version: VERSION, reusePort: deps.reusePort, processes: deps.processes, listenFailed: asListenFailure },
  );
  host.onSignal("SIGHUP", () => app.reload("SIGHUP"));
  return await new Promise<number>((resolveExit) => {
    let draining = false;
    const shutdown = async (signal: string) => {
      if (draining) {
        logger.warn("second signal: exiting now", { signal });
        host.exit(1);
      }
      draining = true;
      await app.drain(signal);
      await app.close(signal);
      resolveExit(0);
    };
    host.onSignal("SIGTERM", () => void shutdown("SIGTERM"));
    host.onSignal("SIGINT", () => void shutdown("SIGINT"));
  });
}
