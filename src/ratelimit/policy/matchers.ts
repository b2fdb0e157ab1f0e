/**
 * Compiled match conditions: each ArgMatcher becomes a predicate over a message's arguments.
 * @module
 */
import type { NamedData } from "../../spop/types.ts";
import { parseCidrList } from "../identity/ip.ts";
import type { ArgMatcher } from "./types.ts";
import { dataAddress, dataText, findArg } from "./args.ts";
import { PolicyError } from "./errors.ts";

/** True when one condition holds for a message's arguments. */
export type Predicate = (args: readonly NamedData[]) => boolean;

/** Regex input longer than this never matches: it bounds the work a hostile value can cause. */
export const MAX_REGEX_INPUT = 4096;

function textPredicate(arg: string, test: (text: string) => boolean): Predicate {
  return (args) => {
    const data = findArg(args, arg);
    if (data === undefined) return false;
    const text = dataText(data);
    return text !== undefined && test(text);
  };
}

/** Compiles one condition; throws PolicyError on a bad regex or CIDR. */
export function compileMatcher(matcher: ArgMatcher, limitName: string): Predicate {
  switch (matcher.kind) {
    case "exact": {
      const value = matcher.value;
      return textPredicate(matcher.arg, (text) => text === value);
    }
    case "prefix": {
      const value = matcher.value;
      return textPredicate(matcher.arg, (text) => text.startsWith(value));
    }
    case "regex": {
      let re: RegExp;
      try {
        re = new RegExp(matcher.pattern);
      } catch (cause) {
        throw new PolicyError(`Limit "${limitName}": invalid regex ${JSON.stringify(matcher.pattern)}`, { cause });
      }
      return textPredicate(matcher.arg, (text) => text.length <= MAX_REGEX_INPUT && re.test(text));
    }
    case "in": {
      const values = new Set(matcher.values);
      return textPredicate(matcher.arg, (text) => values.has(text));
    }
    case "cidr": {
      let set;
      try {
        set = parseCidrList(matcher.cidrs);
      } catch (cause) {
        throw new PolicyError(`Limit "${limitName}": ${(cause as Error).message}`, { cause });
      }
      const arg = matcher.arg;
      return (args) => {
        const data = findArg(args, arg);
        if (data === undefined) return false;
        const address = dataAddress(data);
        return address !== undefined && set.contains(address);
      };
    }
  }
}
