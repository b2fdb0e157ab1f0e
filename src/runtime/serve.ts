/**
 * `serve()`: an Agent listening for HAProxy on whichever runtime runs it, so an agent's entry
 * point needs no runtime-specific import. The adapter comes from detect.ts, the one place
 * that knows the runtime.
 * @module
 */
import { Agent, type AgentOptions, type DrainOptions } from "../agent/agent.ts";
import type { ListenAddress, Timers } from "../agent/transport.ts";
import { loadAdapter } from "./detect.ts";
import { systemTimers } from "./host-time.ts";
import type { Listener, ListenOptions, RuntimeName } from "./types.ts";

/**
 * What to serve and where: the Agent's options (its `timers` default to the host's) plus the
 * listen address.
 *
 * @example Serve on a unix socket with a smaller in-flight cap
 * ```ts
 * import { setVar } from "@spoa-gcra/spoa-gcra";
 * import { serve, type ServeOptions } from "@spoa-gcra/spoa-gcra/serve";
 *
 * const options: ServeOptions = {
 *   handler: { handle: () => [setVar("txn", "ok", true)], failureActions: () => [] },
 *   address: { kind: "unix", path: `/tmp/spoa-serve-${Math.random().toString(36).slice(2)}.sock` },
 *   maxInFlight: 500,
 * };
 * const served = await serve(options);
 * console.assert(served.listener.address.startsWith("unix:"));
 * await served.close();
 * ```
 */
export interface ServeOptions extends Omit<AgentOptions, "timers"> {
  /** Where HAProxy connects: `parseListenAddress("127.0.0.1:12345")` makes one from text. */
  readonly address: ListenAddress;
  /** The Agent's timers; default the host's `setTimeout`. */
  readonly timers?: Timers;
  /** Force a runtime instead of detecting it (Bun, then Deno, then Node). */
  readonly runtime?: RuntimeName;
  /** Socket options of the listener (`reusePort`, unix socket mode …). */
  readonly listen?: ListenOptions;
}

/**
 * A served agent: the Agent, its listener, the runtime that was picked, and how to stop.
 *
 * @example Stop on SIGTERM
 * ```ts
 * import { setVar } from "@spoa-gcra/spoa-gcra";
 * import { serve, type ServedAgent } from "@spoa-gcra/spoa-gcra/serve";
 *
 * const served: ServedAgent = await serve({
 *   handler: { handle: () => [setVar("txn", "ok", true)], failureActions: () => [] },
 *   address: { kind: "tcp", hostname: "127.0.0.1", port: 0 },
 * });
 * process.once("SIGTERM", () => void served.close({ graceMs: 5_000 }));
 * console.assert(served.runtime === "bun" && served.listener.port > 0);
 * await served.close();
 * ```
 */
export interface ServedAgent {
  readonly agent: Agent;
  readonly listener: Listener;
  readonly runtime: RuntimeName;
  /**
   * Stops accepting, lets in-flight NOTIFYs finish, then ends every connection.
   * @param options How long to wait for in-flight NOTIFYs.
   */
  close(options?: DrainOptions): Promise<void>;
}

/**
 * Builds an Agent and listens for HAProxy with the adapter of the runtime this runs on.
 *
 * @param options The handler and Agent options, and the listen address.
 * @returns The served agent, already listening.
 * @throws RuntimeAdapterError when the address cannot be bound.
 *
 * @example An agent that runs unchanged under Bun, Deno and Node
 * ```ts
 * import { parseListenAddress, setVar } from "@spoa-gcra/spoa-gcra";
 * import { serve } from "@spoa-gcra/spoa-gcra/serve";
 *
 * const served = await serve({
 *   handler: { handle: () => [setVar("txn", "checked", true)], failureActions: () => [] },
 *   address: parseListenAddress("127.0.0.1:0")!,
 * });
 * console.log(`${served.runtime} agent listening on ${served.listener.address}`);
 * await served.close();
 * ```
 */
export async function serve(options: ServeOptions): Promise<ServedAgent> {
  const { address, runtime, listen, timers, ...agentOptions } = options;
  const adapter = await loadAdapter(runtime);
  const agent = new Agent({ ...agentOptions, timers: timers ?? systemTimers });
  const listener = await adapter.listenSpop(address, (transport) => agent.accept(transport), listen);
  return {
    agent,
    listener,
    runtime: adapter.name,
    async close(drain?: DrainOptions): Promise<void> {
      await listener.close();
      await agent.drain(drain);
    },
  };
}
