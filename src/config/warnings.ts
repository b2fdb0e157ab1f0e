/**
 * Things a valid configuration probably did not mean: the agent runs with them, but check-config
 * and serve point them out.
 * @module
 */
import type { ConfigIssue } from "./errors.ts";
import type { AgentConfig } from "./schema.ts";

// A SHA-256 digest as HAProxy's `hex` converter writes it (upper case) and in lower case.
const DIGEST_UPPER = "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08";
const DIGEST_LOWER = DIGEST_UPPER.toLowerCase();

/** Warnings about a loaded configuration, each named by the file key it concerns. */
export function configWarnings(config: AgentConfig): readonly ConfigIssue[] {
  const warnings: ConfigIssue[] = [];
  config.limits.forEach((limit, index) => {
    for (const matcher of limit.match) {
      if (matcher.kind !== "regex" || !/^api[_-]?key$/i.test(matcher.arg)) continue;
      const regex = new RegExp(matcher.pattern);
      if (regex.test(DIGEST_LOWER) && !regex.test(DIGEST_UPPER)) {
        warnings.push({
          path: `limits[${index}].match.${matcher.arg}.regex`,
          message: `${JSON.stringify(matcher.pattern)} accepts lower-case hex only, but HAProxy's \`sha2(256),hex\` (the shipped spoe-ratelimit.conf) sends upper-case hex: this limit never matches`,
          fix: `write [0-9A-F] (or [0-9A-Fa-f]), e.g. "^[0-9A-F]{64}$"`,
        });
      }
    }
  });
  return warnings;
}
