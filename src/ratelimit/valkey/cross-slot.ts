/**
 * A request whose limits live in different cluster slots. Keys of limits keyed `[identity, …]`
 * share the identity's slot by construction (identity/keys.ts braces the first key part
 * alone), but a request that matches, say, a per-client limit and a per-API-key limit
 * (`key: ["arg:api_key"]`) has two hash tags, and one script call over both would be refused
 * with CROSSSLOT (and count against the node's breaker). So a cluster store decides such a
 * request per hash tag, one atomic call each, and denies it if any part denies. The price:
 * a part that allowed has committed even when another part denied (the request costs budget
 * on its allowing limits) — stricter than one atomic call, never looser.
 * @module
 */
import { hashTagOf } from "../identity/keys.ts";
import type { Decision, LimitCheck, LimitResult } from "../store.ts";

/** Indices of `checks` grouped by hash tag; undefined when they all share one (the usual case). */
export function tagGroups(checks: readonly LimitCheck[], keyPrefix: string): number[][] | undefined {
  const first = hashTagOf(keyPrefix + checks[0].key);
  let groups: Map<string, number[]> | undefined;
  for (let i = 1; i < checks.length; i++) {
    const tag = hashTagOf(keyPrefix + checks[i].key);
    if (groups === undefined) {
      if (tag === first) continue;
      groups = new Map([[first, Array.from({ length: i }, (_, j) => j)]]);
    }
    const list = groups.get(tag);
    if (list) list.push(i);
    else groups.set(tag, [i]);
  }
  return groups === undefined ? undefined : [...groups.values()];
}

/**
 * One Decision for `checks` from the decisions of its tag groups: allowed when every group
 * allowed; decidingIndex by gcra.ts's rule (the first enforcing denial, else the enforcing
 * check with the fewest remaining, ties the first; -1 without enforcing checks).
 */
export function mergeDecisions(checks: readonly LimitCheck[], groups: readonly (readonly number[])[], decisions: readonly Decision[]): Decision {
  const results = new Array<LimitResult>(checks.length);
  groups.forEach((group, g) => group.forEach((index, j) => (results[index] = decisions[g].results[j])));
  const allowed = decisions.every((d) => d.allowed);
  let deciding = -1;
  for (let i = 0; i < checks.length; i++) {
    if (checks[i].shadow) continue;
    if (!allowed) {
      if (!results[i].allowed) return { allowed, decidingIndex: i, results, degraded: false };
      continue;
    }
    if (deciding < 0 || results[i].remaining < results[deciding].remaining) deciding = i;
  }
  return { allowed, decidingIndex: deciding, results, degraded: false };
}
