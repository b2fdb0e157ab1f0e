/**
 * `spoa-gcra inspect NAME=VALUE…` and `spoa-gcra reset NAME=VALUE…|KEY…`: the admin
 * endpoint's two operations run against the configured Valkey directly, printing the same JSON.
 * With the in-memory store only the running agent holds the state, so they print the curl
 * command for its admin endpoint instead.
 * @module
 */
import { ConfigError } from "../config/errors.ts";
import { type LoadInput, loadConfig } from "../config/load.ts";
import type { AgentConfig } from "../config/schema.ts";
import { AdminRequestError, describeRequest } from "../app/admin.ts";
import { openValkeyAdmin } from "../app/valkey-admin.ts";
import type { ParsedArgs } from "./args.ts";

/** Host access for the admin commands (tests capture the output). */
export interface AdminCommandIo {
  readonly env: LoadInput["env"];
  readonly readFile: LoadInput["readFile"];
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

const EXIT_FAILED = 1;
const EXIT_USAGE = 2;

/** `name=value` words as pairs; for reset a bare word is a store key. */
function pairsOf(words: readonly string[], command: "inspect" | "reset"): [string, string][] {
  return words.map((word): [string, string] => {
    const at = word.indexOf("=");
    if (at > 0) return [word.slice(0, at), word.slice(at + 1)];
    if (command === "reset") return ["key", word];
    throw new AdminRequestError(`"${word}" is not NAME=VALUE (for example ip=203.0.113.7 path=/login method=POST)`);
  });
}

/** The curl command for the running agent's admin endpoint (the in-memory store's only way in). */
export function adminCurl(config: AgentConfig, command: "inspect" | "reset", pairs: readonly [string, string][]): string {
  const metrics = config.metrics === "off" ? "127.0.0.1:12346" : config.metrics.replace(/^0\.0\.0\.0:|^\[::\]:/, "127.0.0.1:");
  const query = new URLSearchParams(pairs.map(([k, v]) => [k, v])).toString();
  const method = command === "reset" ? "-X POST " : "";
  return `curl -sS ${method}-H "Authorization: Bearer $SPOA_ADMIN_TOKEN" 'http://${metrics}/admin/${command}${query === "" ? "" : `?${query}`}'`;
}

/** The configuration this command computed the keys from, in the words an operator sets it with. */
export function configSourceText(config: AgentConfig): string {
  if (config.source.file !== undefined) return `the limits of ${config.source.file}`;
  const { emissionIntervalUs, burstToleranceUs } = config.limits[0].params;
  return `no config file: the default limit with SPOA_RATE_INTERVAL=${emissionIntervalUs} SPOA_RATE_BURST=${burstToleranceUs}`;
}

/**
 * Why a key can be empty although the client is limited: a key names its limit and rate, so a
 * command run with other settings than the agents' looks at keys no agent writes.
 */
function noStateHint(config: AgentConfig): string {
  return `no key holds state. Keys are computed from the limits' names and rates, here from ${configSourceText(config)}; ` +
    "if the agents run with another config file or other SPOA_RATE_* values, run this command with theirs (--config FILE, the same env) — " +
    "or ask a running agent, which uses its own: curl its /admin/inspect (admin.enabled).";
}

/** Runs `inspect` or `reset`; resolves with the exit code. */
export async function adminCommand(command: "inspect" | "reset", args: ParsedArgs, io: AdminCommandIo): Promise<number> {
  let config: AgentConfig;
  try {
    config = loadConfig({ args, env: io.env, readFile: io.readFile });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    io.stderr(`spoa-gcra ${command}: invalid configuration\n${error.message}`);
    return EXIT_USAGE;
  }
  let pairs: [string, string][];
  let description;
  // `inspect ip=… keys`: list every key of that client, whatever limit or rate wrote it.
  const listKeys = command === "inspect" && args.positionals.includes("keys");
  try {
    pairs = pairsOf(args.positionals.filter((w) => !(listKeys && w === "keys")), command);
    if (pairs.length === 0) throw new AdminRequestError(`describe the request, e.g. spoa-gcra ${command} ip=203.0.113.7 path=/login method=POST`);
    description = describeRequest(pairs, config);
  } catch (error) {
    if (!(error instanceof AdminRequestError)) throw error;
    io.stderr(`spoa-gcra ${command}: ${error.message}`);
    return EXIT_USAGE;
  }
  if (config.store.kind === "memory") {
    io.stderr(
      `spoa-gcra ${command}: the limiter state is in the running agent's memory (no Valkey configured);\n` +
        `only its admin endpoint can ${command === "inspect" ? "read" : "reset"} it (admin.enabled, SPOA_ADMIN_TOKEN). Ask it with:`,
    );
    io.stdout(adminCurl(config, command, pairs));
    return EXIT_USAGE;
  }
  let opened;
  try {
    opened = await openValkeyAdmin(config, { nowUs: () => Date.now() * 1000 });
    if (listKeys) {
      io.stdout(JSON.stringify(await opened.admin.identityKeys(description), null, 2));
      return 0;
    }
    const report = command === "inspect" ? await opened.admin.inspect(description) : await opened.admin.reset(description);
    io.stdout(JSON.stringify(report, null, 2));
    const states = "limits" in report ? report.limits.map((l) => l.state?.tatUs ?? null) : report.keys.map((k) => k.tatUs);
    if (states.length > 0 && states.every((tat) => tat === null)) {
      const found = await opened.admin.identityKeys(description);
      io.stderr(`spoa-gcra ${command}: warning: ${noStateHint(config)}`);
      if (found !== undefined && found.keys.length > 0) {
        io.stderr(`  ${found.identity} has these keys in Valkey (other limits or rates): ${found.keys.join(", ")} — reset one with spoa-gcra reset KEY`);
      }
    }
    return 0;
  } catch (error) {
    if (error instanceof AdminRequestError) {
      io.stderr(`spoa-gcra ${command}: ${error.message}`);
      return EXIT_USAGE;
    }
    io.stderr(`spoa-gcra ${command}: Valkey failed: ${error instanceof Error ? error.message : String(error)}`);
    return EXIT_FAILED;
  } finally {
    await opened?.close();
  }
}
