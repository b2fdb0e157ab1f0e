/**
 * The e2e matrix in one place: HAProxy versions × agent runtimes × stores (memory or a Valkey
 * version). `describeStacks` runs one scenario in every cell: it starts Valkey (when the cell has
 * one), the agent and HAProxy in front of it with the scenario's rules, hands the running stack
 * to the tests, and stops it all afterwards.
 * @module
 */
import { afterAll, beforeAll, describe } from "bun:test";
import { rmSync } from "node:fs";
import { type AgentProcess, type AgentRuntime, startAgent } from "./agent-process.ts";
import {
  HAPROXY_VERSIONS,
  haproxyLabel,
  type HaproxyProcess,
  type HaproxyVersion,
  spoeFrontendConfig,
  startHaproxy,
  TEST_SPOE_CONFIG,
  writeTempFiles,
} from "./haproxy.ts";
import { freePort } from "./ports.ts";
import { startValkey, tempDir, valkeyLabel, type ValkeyProcess, type ValkeyVersion } from "./valkey.ts";

/** Where the agent keeps GCRA state in one cell. */
export type StackStore = "memory" | ValkeyVersion;

/** One cell of the matrix. */
export interface StackCell {
  readonly version: HaproxyVersion;
  readonly runtime: AgentRuntime;
  readonly store: StackStore;
}

/** What a scenario configures: HAProxy's http-request lines, and the agent's extra flags and env. */
export interface StackScenario {
  readonly rules: readonly string[];
  readonly args?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
}

/** A running cell. */
export interface Stack {
  readonly cell: StackCell;
  readonly agent: AgentProcess;
  readonly haproxy: HaproxyProcess;
  /** Set when the cell's store is Valkey. */
  readonly valkey: ValkeyProcess | undefined;
  readonly agentPort: number;
  /** HAProxy's HTTP frontend. */
  readonly frontendPort: number;
  stop(): Promise<void>;
}

/** Every combination of the given axes (defaults: every HAProxy version, Bun, memory). */
export function stackMatrix(axes: {
  readonly versions?: readonly HaproxyVersion[];
  readonly runtimes?: readonly AgentRuntime[];
  readonly stores?: readonly StackStore[];
} = {}): StackCell[] {
  const cells: StackCell[] = [];
  for (const version of axes.versions ?? HAPROXY_VERSIONS) {
    for (const runtime of axes.runtimes ?? ["bun"]) {
      for (const store of axes.stores ?? ["memory"]) cells.push({ version, runtime, store });
    }
  }
  return cells;
}

/** "bun behind HAProxy 3.2, in memory" / "… , Valkey 9": the cell in a test name. */
export function stackLabel(cell: StackCell): string {
  return `${cell.runtime} behind ${haproxyLabel(cell.version)}, ${cell.store === "memory" ? "in memory" : valkeyLabel(cell.store)}`;
}

/** Starts one cell: Valkey first, then the agent, then HAProxy (which checks the agent at once). */
export async function startStack(cell: StackCell, scenario: StackScenario): Promise<Stack> {
  const dir = tempDir("spoa-stack-");
  const valkey = cell.store === "memory" ? undefined : await startValkey({ version: cell.store }, dir);
  const agentPort = await freePort();
  const frontendPort = await freePort();
  const agent = await startAgent({
    runtime: cell.runtime,
    args: ["serve", "--listen", `127.0.0.1:${agentPort}`, ...(valkey === undefined ? [] : ["--valkey-url", valkey.url]), ...(scenario.args ?? [])],
    ...(scenario.env === undefined ? {} : { env: scenario.env }),
  });
  const files = writeTempFiles({ "spoe.conf": TEST_SPOE_CONFIG });
  const config = spoeFrontendConfig({ version: cell.version, frontendPort, server: `127.0.0.1:${agentPort}`, spoeFile: files["spoe.conf"], rules: scenario.rules });
  const haproxy = await startHaproxy({ version: cell.version, configFile: writeTempFiles({ "haproxy.cfg": config })["haproxy.cfg"], waitPort: frontendPort });
  return {
    cell,
    agent,
    haproxy,
    valkey,
    agentPort,
    frontendPort,
    async stop() {
      await haproxy.stop();
      await agent.stop();
      await valkey?.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * One describe() per cell, named `${name} (${stackLabel(cell)})`: the stack starts before the
 * tests `body` declares and stops after them; `stack()` is the running one.
 */
export function describeStacks(name: string, cells: readonly StackCell[], scenario: StackScenario, body: (stack: () => Stack, cell: StackCell) => void): void {
  for (const cell of cells) {
    describe(`${name} (${stackLabel(cell)})`, () => {
      let running: Stack | undefined;
      beforeAll(async () => {
        running = await startStack(cell, scenario);
      }, 60_000);
      afterAll(async () => {
        await running?.stop();
      });
      body(() => {
        if (running === undefined) throw new Error(`the stack ${stackLabel(cell)} did not start`);
        return running;
      }, cell);
    });
  }
}
