/**
 * `npm start --listen X` hands `--listen` to npm, not to the agent: npm records it as
 * `npm_config_listen=true` and passes X on as a bare word. Detect that, so the agent refuses
 * to start without the flag instead of silently running with its default.
 * @module
 */
import { knownFlags } from "./args.ts";

/** npm's own settings that share a name with one of our flags; npm may set these itself. */
const NPM_OWN = new Set(["help", "version", "message"]);

/** Our flags npm swallowed, from the environment of an npm script run (empty outside npm). */
export function flagsNpmTook(env: Readonly<Record<string, string | undefined>>): string[] {
  if (env.npm_lifecycle_event === undefined) return [];
  return knownFlags()
    .map((flag) => flag.slice(2))
    .filter((flag) => !NPM_OWN.has(flag) && env[`npm_config_${flag.replace(/-/g, "_")}`] !== undefined);
}
