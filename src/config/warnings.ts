/**
 * Things a valid configuration probably did not mean: the agent runs with them, but check-config
 * and serve point them out.
 * @module
 */
import type { ConfigIssue } from "./errors.ts";
import { missingArgEffect, neededArgs, SHIPPED_SPOE_ARGS } from "./limit-args.ts";
import type { AgentConfig } from "./schema.ts";
import { closest } from "./suggest.ts";
import { formatRate } from "../ratelimit/rate.ts";

// A SHA-256 digest as HAProxy's `hex` converter writes it (upper case) and in lower case.
const DIGEST_UPPER = "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08";
const DIGEST_LOWER = DIGEST_UPPER.toLowerCase();

/**
 * A limit reading an argument the shipped spoe-ratelimit.conf does not send: a typo (`pth`) or an
 * argument the operator must add to their SPOE config. Only `--haproxy`/`--spoe` know which.
 */
function unsentArgWarnings(config: AgentConfig): ConfigIssue[] {
  const known = [...SHIPPED_SPOE_ARGS.keys()];
  return config.limits.flatMap((limit, index) =>
    neededArgs(limit)
      .filter((need) => !SHIPPED_SPOE_ARGS.has(need.arg))
      .map((need): ConfigIssue => {
        // A cost argument is usually a name of its own (`cost`), not a typo of a header's.
        const guess = need.role === "cost" ? undefined : closest(need.arg, known);
        return {
          path: `limits[${index}].${need.at}`,
          message: `argument "${need.arg}" is not one the shipped spoe-ratelimit.conf sends (${known.join(", ")}): unless your SPOE config sends it, ${missingArgEffect(need.role)}`,
          fix: `${guess === undefined ? "" : `did you mean "${guess}"? `}check against your files with --haproxy haproxy.cfg [--spoe spoe.conf]`,
        };
      })
  );
}

/** An empty (or comment-only) config file is valid, but the operator surely expected their limits. */
function emptyFileWarning(config: AgentConfig): ConfigIssue {
  const limit = config.limits[0];
  return {
    path: config.source.file ?? "(file)",
    message: `the file holds no settings (empty or only comments): the agent runs the default limit "${limit.name}", ${formatRate(limit)} with bursts of ${limit.burst} per client`,
    fix: "add your limits (see `spoa-gcra help config` and deploy/policy.example.yaml), or set SPOA_RATE_INTERVAL / SPOA_RATE_BURST and drop the file",
  };
}

/** Warnings about a loaded configuration, each named by the file key it concerns; `spoeKnown`: the SPOE config is checked separately. */
export function configWarnings(config: AgentConfig, options: { readonly spoeKnown?: boolean } = {}): readonly ConfigIssue[] {
  const warnings: ConfigIssue[] = options.spoeKnown === true ? [] : unsentArgWarnings(config);
  if (config.source.empty === true) warnings.push(emptyFileWarning(config));
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
  const seeing = config.limits.findIndex((l) => l.cost.kind === "response" || l.concurrency !== undefined);
  if (seeing >= 0 && config.haproxy.ticketSecret === undefined) {
    warnings.push({
      path: `limits[${seeing}]`,
      message: `${config.limits[seeing].name} sees the response, but SPOA_TICKET_SECRET is unset: only this process can settle the tickets it issues, so a response message that reaches another agent (or this one restarted) is refused and its lease waits for leaseTtl`,
      fix: "give every agent of the fleet the same SPOA_TICKET_SECRET (or haproxy.ticketSecretFile), e.g. openssl rand -hex 32",
    });
  }
  return warnings;
}
