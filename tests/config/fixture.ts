// Shared by the config tests: loadConfig over an in-memory file system.
import { ConfigError, type ConfigIssue } from "../../src/config/errors.ts";
import { loadConfig } from "../../src/config/load.ts";
import type { AgentConfig } from "../../src/config/schema.ts";

/** Sources of one load: flags, env and in-memory files. */
export interface Sources {
  readonly flags?: Record<string, string | boolean>;
  readonly env?: Record<string, string | undefined>;
  readonly files?: Record<string, string>;
}

/** loadConfig with files served from memory (a missing one throws like ENOENT). */
export function load(sources: Sources = {}): AgentConfig {
  const files = sources.files ?? {};
  return loadConfig({
    args: { flags: sources.flags ?? {} },
    env: sources.env ?? {},
    readFile: (path) => {
      const text = files[path];
      if (text === undefined) throw new Error(`ENOENT: no such file or directory, open '${path}'`);
      return text;
    },
  });
}

/** The issues of a load that must fail. */
export function issuesOf(sources: Sources): readonly ConfigIssue[] {
  try {
    load(sources);
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

/** Sources with `yaml` as the config file. */
export function withFile(yaml: string, extra: Sources = {}): Sources {
  return { ...extra, flags: { config: "/etc/spoa/policy.yaml", ...extra.flags }, files: { "/etc/spoa/policy.yaml": yaml, ...extra.files } };
}
