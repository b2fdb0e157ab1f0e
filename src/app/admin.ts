/**
 * "Why is this client limited, and can I let them through now?": for a request described by
 * its message arguments, which limits match, their keys and each key's state read from the
 * store without consuming; and deleting keys. Shared by the agent's admin endpoint (which also
 * sees its local deny cache) and the `inspect` / `reset` commands (which talk to Valkey only).
 * @module
 */
import { formatRate } from "../ratelimit/rate.ts";
import type { AgentConfig } from "../config/schema.ts";
import type { Message, NamedData } from "../spop/types.ts";
import { compileIdentity } from "../ratelimit/identity/identity.ts";
import { escapeIdentity } from "../ratelimit/identity/keys.ts";
import { compilePolicies } from "../ratelimit/policy/compile.ts";
import type { LimitDefinition } from "../ratelimit/policy/types.ts";
import { type KeyAdmin, keyView, type KeyView, type StoredKey } from "../ratelimit/store-admin.ts";
import type { Clock } from "../ratelimit/store.ts";
import { parseIp } from "../ratelimit/identity/ip.ts";
import { neededArgs, SHIPPED_SPOE_ARGS } from "../config/limit-args.ts";
import { closest } from "../config/suggest.ts";

/** The deny cache as the admin sees it (DenyCache implements it). */
export interface DenialsAdmin {
  /** The cached denial of `key` still holding at `nowUs`, if any. */
  denial(key: string, nowUs: number): { readonly untilUs: number; readonly cost: number } | undefined;
  /** Drops `key`'s cached denial; true when there was one. */
  forget(key: string): boolean;
}

/** Where key state lives, as far as this process can see. */
export interface AdminStores {
  readonly kind: "memory" | "valkey";
  /** The store that decides: Valkey, or the memory store. */
  readonly primary: KeyAdmin;
  /** With Valkey: the in-process store the `local` failure policy decided with during outages. */
  readonly fallback?: KeyAdmin;
  /** The running agent's local deny cache (absent in the CLI). */
  readonly denials?: DenialsAdmin;
  /** The agent's clock (the deny cache counts on it). */
  readonly clock: Clock;
}

/** A request as an operator describes it: query parameters or `name=value` words. */
export interface RequestDescription {
  readonly message: Message;
  /** Only this limit (by name), when given. */
  readonly limit?: string;
  /** Explicit store keys (reset only). */
  readonly keys: readonly string[];
}

/** A description an operator wrote that cannot be used; the message says why. */
export class AdminRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AdminRequestError";
  }
}

/**
 * Reads `name=value` pairs: `message` (default: the first configured message name), `ip` (the
 * source address argument), `limit`, `key` (repeatable), `arg.NAME` for any argument, and any
 * other name as a message argument of that name (`path`, `method`, `host`, `api_key`, …).
 * Every argument is sent as a string, which is how matchers and identity read them anyway.
 */
export function describeRequest(pairs: Iterable<readonly [string, string]>, config: AgentConfig): RequestDescription {
  let name = config.haproxy.messages[0] ?? "check-rate";
  let limit: string | undefined;
  const keys: string[] = [];
  const args: NamedData[] = [];
  const { sourceArg, forwardedArg, xffArg } = config.identity;
  // Bare names are the arguments the shipped SPOE config sends and those the identity and the
  // limits read; anything else is a typo (`ipp=`), which would otherwise inspect the "unknown"
  // client and answer 200.
  const known = new Set([sourceArg, forwardedArg, xffArg, ...SHIPPED_SPOE_ARGS.keys(), ...config.limits.flatMap((l) => neededArgs(l).map((n) => n.arg))]);
  for (const [rawName, value] of pairs) {
    if (rawName === "message") name = value;
    else if (rawName === "limit") limit = value;
    else if (rawName === "key") keys.push(value);
    else if (rawName === "ip") {
      if (parseIp(value) === undefined) throw new AdminRequestError(`ip ${JSON.stringify(value)} is not an IPv4 or IPv6 address (for example ip=203.0.113.7 or ip=2001:db8::1)`);
      args.push({ name: sourceArg, kind: "string", value });
    } else {
      const argName = rawName.startsWith("arg.") ? rawName.slice(4) : rawName;
      if (argName === "") throw new AdminRequestError(`"${rawName}" names no argument (write arg.NAME=value)`);
      if (argName === rawName && !known.has(argName)) {
        const guess = closest(rawName, ["ip", "message", "limit", "key", ...known]);
        throw new AdminRequestError(
          `unknown parameter "${rawName}"${guess === undefined ? "" : ` (did you mean ${guess}?)`}: use ip, message, limit, key, an argument HAProxy sends (${[...known].join(", ")}), or arg.NAME for any other`,
        );
      }
      args.push({ name: argName, kind: "string", value });
    }
  }
  if (limit !== undefined && !config.limits.some((l) => l.name === limit)) {
    throw new AdminRequestError(`no limit is called "${limit}" (limits: ${config.limits.map((l) => l.name).join(", ")})`);
  }
  if (keys.length === 0 && !args.some((a) => a.name === sourceArg || a.name === forwardedArg || a.name === xffArg)) {
    throw new AdminRequestError(`name the client: ip=ADDRESS (or ${forwardedArg}/${xffArg} with a trusted proxy's ip); without it every limit keyed by identity reads the "unknown" client's key`);
  }
  return { message: { name, args }, ...(limit === undefined ? {} : { limit }), keys };
}

/** One matching limit and its key's state. */
export interface LimitReport {
  readonly name: string;
  readonly rate: string;
  readonly burst: number;
  readonly shadow: boolean;
  /** What this request costs under the limit. */
  readonly cost: number;
  readonly key: string;
  /** The key in the deciding store, evaluated for this request's cost; absent when the store did not answer. */
  readonly state?: KeyView & { readonly ttlMs?: number };
  /** Why `state` is missing: Valkey did not answer (the `local` fallback's view is then in `local`). */
  readonly storeError?: string;
  /** With Valkey: the same key in the in-process fallback store, when it holds live state. */
  readonly local?: KeyView;
  /** The local deny cache: whether it answers this key itself, and for how long. Absent in the CLI. */
  readonly denyCache?: { readonly held: false } | { readonly held: true; readonly retryAfterMs: number; readonly cost: number };
}

/** The answer of inspect. */
export interface InspectReport {
  readonly message: string;
  readonly identity: string;
  readonly store: "memory" | "valkey";
  /** Whether this request would pass right now (every enforcing limit allows, no cached denial). */
  readonly allowed: boolean;
  readonly limits: readonly LimitReport[];
  /** Limits listening to this message whose match conditions this request does not meet. */
  readonly notMatched: readonly string[];
}

/** What reset removed, per key. */
export interface ResetReport {
  readonly store: "memory" | "valkey";
  readonly keys: readonly {
    readonly key: string;
    /** The TAT deleted from the deciding store (null: the key held no state, or the store did not answer). */
    readonly tatUs: number | null;
    /** Valkey did not answer: only this agent's fallback state and cached denial were removed. */
    readonly storeError?: string;
    /** Removed from the in-process fallback store (Valkey with the `local` policy). */
    readonly local: boolean;
    /** Removed from the local deny cache; absent in the CLI, which cannot see agents' caches. */
    readonly denyCache?: boolean;
  }[];
  /**
   * Valkey: whether the reset was published to the other agents (which then drop their cached
   * denials); false with `announceError` when Valkey refused (e.g. an ACL without the channel).
   */
  readonly announced?: boolean;
  readonly announceError?: string;
}

interface MatchedCheck {
  readonly limit: LimitDefinition;
  readonly key: string;
  readonly cost: number;
}

function match(config: AgentConfig, request: RequestDescription): { identity: string; matched: MatchedCheck[]; notMatched: string[] } {
  const identity = compileIdentity(config.identity).resolve(request.message.args);
  const policies = compilePolicies(config.limits, { keyPrefix: config.store.keyPrefix });
  if (!policies.handles(request.message.name)) {
    throw new AdminRequestError(`no limit listens to message "${request.message.name}" (messages: ${[...new Set(config.limits.flatMap((l) => l.messages))].join(", ")})`);
  }
  const found = policies.checksFor(request.message, identity);
  const matched: MatchedCheck[] = [];
  found?.checks.forEach((check, i) => {
    const limit = found.limits[i];
    if (request.limit === undefined || request.limit === limit.name) matched.push({ limit, key: check.key, cost: check.cost });
  });
  const names = new Set(found?.limits.map((l) => l.name));
  const notMatched = config.limits
    .filter((l) => l.messages.includes(request.message.name) && !names.has(l.name) && (request.limit === undefined || request.limit === l.name))
    .map((l) => l.name);
  return { identity, matched, notMatched };
}

function isLive(stored: StoredKey): boolean {
  return stored.tatUs !== undefined && stored.tatUs > stored.nowUs;
}

/** The admin operations over one process's view of the stores. */
export interface Admin {
  inspect(request: RequestDescription): Promise<InspectReport>;
  reset(request: RequestDescription): Promise<ResetReport>;
  /**
   * Every key the request's client has in the store, under any limit name or rate (so also the
   * keys of agents configured differently); undefined when the store cannot list keys.
   */
  identityKeys(request: RequestDescription): Promise<{ readonly identity: string; readonly keys: readonly string[] } | undefined>;
}

/** Builds the operations; `config()` is read per call, so a reload's limits apply at once. */
export function createAdmin(deps: { readonly config: () => AgentConfig; readonly stores: AdminStores }): Admin {
  const { stores } = deps;

  const inspectOne = async (check: MatchedCheck): Promise<LimitReport> => {
    const { limit, key, cost } = check;
    let stored: StoredKey | undefined;
    let storeError: string | undefined;
    try {
      stored = await stores.primary.peekKey(key);
    } catch (error) {
      // During a Valkey outage the `local` fallback decides: what it holds is the answer then.
      if (stores.fallback === undefined) throw error;
      storeError = error instanceof Error ? error.message : String(error);
    }
    const state = stored === undefined ? undefined : { ...keyView(limit.params, cost, stored), ...(stored.ttlMs === undefined ? {} : { ttlMs: stored.ttlMs }) };
    const localStored = stores.fallback === undefined ? undefined : await stores.fallback.peekKey(key);
    const local = localStored !== undefined && isLive(localStored) ? keyView(limit.params, cost, localStored) : undefined;
    let denyCache: LimitReport["denyCache"];
    if (stores.denials !== undefined) {
      const nowUs = stores.clock.nowUs();
      const denial = stores.denials.denial(key, nowUs);
      // The cache answers only requests costing at least what was denied (deny-cache.ts).
      denyCache = denial === undefined || cost < denial.cost
        ? { held: false }
        : { held: true, retryAfterMs: Math.ceil((denial.untilUs - nowUs) / 1000), cost: denial.cost };
    }
    return {
      name: limit.name,
      rate: formatRate(limit),
      burst: limit.burst,
      shadow: limit.shadow,
      cost,
      key,
      ...(state === undefined ? { storeError: storeError! } : { state }),
      ...(local === undefined ? {} : { local }),
      ...(denyCache === undefined ? {} : { denyCache }),
    };
  };

  return {
    async identityKeys(request) {
      if (stores.primary.listKeys === undefined) return undefined;
      const config = deps.config();
      const identity = compileIdentity(config.identity).resolve(request.message.args);
      return { identity, keys: await stores.primary.listKeys(`${config.store.keyPrefix}{${escapeIdentity(identity)}}`) };
    },

    async inspect(request) {
      const { identity, matched, notMatched } = match(deps.config(), request);
      const limits = await Promise.all(matched.map(inspectOne));
      // Without Valkey's answer, the fallback's is the one that counts (it decides during an outage).
      const allowed = limits.every((l) => l.shadow || ((l.state ?? l.local)?.allowed !== false && l.denyCache?.held !== true));
      return { message: request.message.name, identity, store: stores.kind, allowed, limits, notMatched };
    },

    async reset(request) {
      const config = deps.config();
      let keys: readonly string[] = request.keys;
      if (keys.length === 0) {
        keys = match(config, request).matched.map((m) => m.key);
        if (keys.length === 0) throw new AdminRequestError("no limit matches this request: nothing to reset");
      }
      // Only rate-limit keys: the token must not open every key of a shared Valkey.
      const head = `${config.store.keyPrefix}{`;
      const foreign = keys.find((k) => !k.startsWith(head));
      if (foreign !== undefined) throw new AdminRequestError(`"${foreign}" is not a rate-limit key (they start with "${head}")`);
      const removed = await Promise.all(keys.map(async (key) => {
        let tat: number | undefined;
        let storeError: string | undefined;
        try {
          tat = await stores.primary.deleteKey(key);
        } catch (error) {
          // In an outage the fallback and the deny cache are what deny: clearing them still helps.
          if (stores.fallback === undefined) throw error;
          storeError = error instanceof Error ? error.message : String(error);
        }
        const local = stores.fallback === undefined ? false : (await stores.fallback.deleteKey(key)) !== undefined;
        const denyCache = stores.denials?.forget(key);
        return { key, tatUs: tat ?? null, ...(storeError === undefined ? {} : { storeError }), local, ...(denyCache === undefined ? {} : { denyCache }) };
      }));
      if (stores.primary.announceReset === undefined) return { store: stores.kind, keys: removed };
      // Announced even for keys Valkey no longer held: an agent may still cache a denial of one.
      const announceError = await stores.primary.announceReset(keys).then(() => undefined, (error: unknown) => error instanceof Error ? error.message : String(error));
      return { store: stores.kind, keys: removed, announced: announceError === undefined, ...(announceError === undefined ? {} : { announceError }) };
    },
  };
}
