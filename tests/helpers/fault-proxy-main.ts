/**
 * The fault proxy in a process of its own, driven over Bun IPC by `fault-proxy-process.ts`.
 * A proxy sharing the test's event loop would add its own delays whenever the load generator
 * is busy — a fault the test never asked for.
 * Usage: bun fault-proxy-main.ts <upstreamPort> <listenPort> <seed>
 * @module
 */
import { FaultProxy } from "./fault-proxy.ts";
import type { ProxyCommand } from "./fault-proxy-process.ts";

const [upstreamPort, listenPort, seed] = process.argv.slice(2).map(Number);
const proxy = await new FaultProxy({ port: upstreamPort }, seed).listen(listenPort);

function apply(command: ProxyCommand): unknown {
  switch (command.op) {
    case "latency":
      return void proxy.latency(command.latency, command.direction);
    case "stall":
      return void proxy.stall(command.ms);
    case "randomStalls":
      return void proxy.randomStalls(command.stalls);
    case "blackhole":
      return void proxy.blackhole(command.on);
    case "randomResets":
      return void proxy.randomResets(command.probability);
    case "resetAll":
      return proxy.resetAll();
    case "heal":
      return void proxy.heal();
    case "stats":
      return proxy.stats();
  }
}

process.on("message", (message: { id: number; command: ProxyCommand }) => {
  let reply: { id: number; value?: unknown; error?: string };
  try {
    reply = { id: message.id, value: apply(message.command) };
  } catch (error) {
    reply = { id: message.id, error: (error as Error).message };
  }
  process.send?.(reply);
});
process.send?.({ id: 0, value: proxy.port });
