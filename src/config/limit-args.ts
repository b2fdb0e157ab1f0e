/**
 * The SPOE message arguments each limit reads (match, key, cost), and the arguments the shipped
 * spoe-ratelimit.conf sends: what check-config compares to catch a limit that silently never
 * matches because HAProxy never sends the argument it reads.
 * @module
 */
import type { LimitDefinition } from "../ratelimit/policy/types.ts";

/** One argument a limit reads, what for, and the file key that names it. */
export interface NeededArg {
  readonly arg: string;
  readonly role: "match" | "key" | "cost";
  /** The file key, relative to the limit (`match.path`, `key[1]`, `cost.arg`). */
  readonly at: string;
}

/**
 * The arguments of `check-rate` in deploy/haproxy/spoe-ratelimit.conf, with their samples (a
 * test keeps this equal to the file). Without `--spoe`, limits are checked against these.
 */
export const SHIPPED_SPOE_ARGS: ReadonlyMap<string, string> = new Map([
  ["ip_fwd", "req.fhdr(forwarded)"],
  ["ip_xff", "req.fhdr(x-forwarded-for)"],
  ["ip_src", "src"],
  ["path", "path"],
  ["method", "method"],
  ["host", "req.hdr(host)"],
  ["api_key", "req.hdr(x-api-key),sha2(256),hex"],
  ["api_key_count", "req.hdr_cnt(x-api-key)"],
]);

/** Every argument a limit reads, in file order. */
export function neededArgs(limit: LimitDefinition): NeededArg[] {
  const needed: NeededArg[] = limit.match.map((m) => ({ arg: m.arg, role: "match" as const, at: `match.${m.arg}` }));
  limit.key.forEach((part, i) => {
    if (part.kind !== "identity") needed.push({ arg: part.arg, role: "key", at: `key[${i}]` });
  });
  if (limit.cost.kind === "arg") needed.push({ arg: limit.cost.arg, role: "cost", at: "cost.arg" });
  return needed;
}

/** What a request without the argument means for the limit, for warnings. */
export function missingArgEffect(role: NeededArg["role"]): string {
  switch (role) {
    case "match": return "the condition never holds, so the limit never applies";
    case "key": return "the key part is always empty, so every client shares that part of the key";
    case "cost": return "every request costs the default";
  }
}
