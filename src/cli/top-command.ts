/**
 * `spoa-gcra top [LIMIT]`: who is being limited, across every agent — per limit, the identities
 * denied most and the heaviest ones over the last one to two minutes, read from the lists the
 * agents publish to the configured Valkey (app/top-lists.ts), as JSON. With the in-memory store
 * only the running agent knows: it prints the curl for its /admin/top.
 * @module
 */
import { ConfigError } from "../config/errors.ts";
import { type LoadInput, loadConfig } from "../config/load.ts";
import { TOP_MAX_AGE_MS } from "../app/top-lists.ts";
import type { ParsedArgs } from "./args.ts";

/** Entries per list printed. */
const ENTRIES = 20;

/** Runs `top`; resolves with the exit code. */
export async function topCommand(
  args: ParsedArgs,
  io: { readonly env: LoadInput["env"]; readonly readFile: LoadInput["readFile"]; readonly stdout: (text: string) => void; readonly stderr: (text: string) => void },
): Promise<number> {
  let config;
  try {
    config = loadConfig({ args, env: io.env, readFile: io.readFile });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    io.stderr(`spoa-gcra top: invalid configuration\n${error.message}`);
    return 2;
  }
  const valkey = config.store.kind === "valkey" ? config.store.valkey : undefined;
  if (valkey === undefined) {
    const metrics = config.metrics === "off" ? "127.0.0.1:12346" : config.metrics.replace(/^0\.0\.0\.0:|^\[::\]:/, "127.0.0.1:");
    io.stderr("spoa-gcra top: the lists are in the running agent's memory (no Valkey configured); ask its admin endpoint (admin.enabled, SPOA_ADMIN_TOKEN):");
    io.stdout(`curl -sS -H "Authorization: Bearer $SPOA_ADMIN_TOKEN" 'http://${metrics}/admin/top?n=${ENTRIES}'`);
    return 2;
  }
  const { openTopExchange } = await import("../ratelimit/valkey/top-exchange.ts");
  let exchange;
  try {
    exchange = await openTopExchange({ ...valkey, keyPrefix: config.store.keyPrefix }, { maxAgeMs: TOP_MAX_AGE_MS, waitMs: 3000 });
    const merged = await exchange.read(Date.now(), ENTRIES);
    const only = args.positionals[0];
    const limits = only === undefined ? merged.limits : Object.fromEntries(Object.entries(merged.limits).filter(([name]) => name === only));
    io.stdout(JSON.stringify({ ...merged, limits }, null, 2));
    if (merged.agents === 0) io.stderr(`spoa-gcra top: no agent published lists in the last ${TOP_MAX_AGE_MS / 1000} s (are they running with this Valkey and key prefix?)`);
    return 0;
  } catch (error) {
    io.stderr(`spoa-gcra top: Valkey failed: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  } finally {
    await exchange?.close();
  }
}
