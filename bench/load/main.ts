/**
 * SPOP load generator: plays HAProxy against any SPOE agent. See USAGE in args.ts.
 *   bun run bench/load/main.ts --target 127.0.0.1:12345 --connections 16 --pipeline 20 --duration 10s
 * Exit code: 0 ok, 1 no ACK at all or errors, 2 bad usage.
 * @module
 */
import { parseLoadArgs, USAGE, UsageError } from "./args.ts";
import { formatTable } from "./report.ts";
import { runLoad } from "./run.ts";

async function main(argv: readonly string[]): Promise<number> {
  let options;
  try {
    options = parseLoadArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`load: ${error.message}\n\n${USAGE}`);
    return 2;
  }
  if (options === "help") {
    process.stdout.write(USAGE);
    return 0;
  }
  const result = await runLoad(options);
  process.stdout.write(options.json ? JSON.stringify(result) + "\n" : formatTable(result) + "\n");
  return result.acks > 0 && Object.keys(result.errors).length === 0 ? 0 : 1;
}

process.exit(await main(process.argv.slice(2)));
