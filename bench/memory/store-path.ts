/**
 * The store side of one decision, without the codec: identity.resolve → policy.checksFor →
 * MemoryStore.check, over messages from N distinct clients (20 % IPv6), then the table's
 * bytes per key and the process RSS with every key live.
 *   bun run bench/memory/store-path.ts [--keys 1000000] [--rounds 5] [--ops 1000000]
 * Prints ns per decision (median of the rounds) and memory figures.
 * @module
 */
import { defaultLimit } from "../../src/config/limits.ts";
import { DEFAULT_MESSAGE_NAME } from "../../src/ratelimit/handler.ts";
import { compileIdentity, DEFAULT_IDENTITY_OPTIONS } from "../../src/ratelimit/identity/identity.ts";
import { MemoryStore } from "../../src/ratelimit/memory/store.ts";
import { compilePolicies } from "../../src/ratelimit/policy/compile.ts";
import type { Message, NamedData } from "../../src/spop/types.ts";
import { AddressPool } from "../load/frames.ts";

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? fallback : Number(process.argv[i + 1]);
}

const keys = flag("keys", 1_000_000);
const rounds = flag("rounds", 5);
const ops = flag("ops", 1_000_000);

const pool = new AddressPool({ keys, ipv6Share: 0.2 });
/** One message per client, built up front so the loop measures only the store side. */
function message(i: number): Message {
  const a = pool.address(i);
  const source: NamedData = a.length === 4
    ? { name: "ip_src", kind: "ipv4", value: ((a[0] << 24) | (a[1] << 16) | (a[2] << 8) | a[3]) >>> 0 }
    : { name: "ip_src", kind: "ipv6", value: a.slice() };
  return { name: DEFAULT_MESSAGE_NAME, args: [{ name: "ip_fwd", kind: "null" }, { name: "ip_xff", kind: "null" }, source] };
}
const messages = Array.from({ length: Math.min(keys, 1 << 20) }, (_, i) => message(i));

// T = 60 s, huge burst: every key stays live and nothing is denied (the d2 load).
const limit = defaultLimit({ intervalUs: 60_000_000, burstUs: 1_000_000_000_000, messages: [DEFAULT_MESSAGE_NAME] });
const policies = compilePolicies([limit], { keyPrefix: "rl:" });
const identity = compileIdentity(DEFAULT_IDENTITY_OPTIONS);
let now = 1_700_000_000_000_000;
const store = new MemoryStore({ clock: { nowUs: () => (now += 1) }, maxKeys: 1_000_000, seed: 1 });

let sink = 0;
function run(count: number, offset: number): number {
  const start = Bun.nanoseconds();
  for (let k = 0; k < count; k++) {
    const m = messages[(offset + k) % messages.length];
    const matched = policies.checksFor(m, identity.resolve(m.args))!;
    sink += store.check(matched.checks).results[0].remaining;
  }
  return (Bun.nanoseconds() - start) / count;
}

const rssStart = process.memoryUsage().rss;
const times: number[] = [];
for (let r = 0; r < rounds; r++) times.push(run(ops, r * ops));
times.sort((a, b) => a - b);
Bun.gc(true);
const rss = process.memoryUsage().rss;
const stats = store.stats as unknown as Record<string, number>;
const tableBytes = Object.entries(stats).filter(([k]) => k.endsWith("Bytes")).reduce((s, [, v]) => s + v, 0);
console.log(JSON.stringify({
  keys: store.size,
  nsPerDecision: { median: +times[times.length >> 1].toFixed(0), min: +times[0].toFixed(0), all: times.map((t) => +t.toFixed(0)) },
  stats,
  tableBytesPerKey: +(tableBytes / Math.max(1, store.size)).toFixed(1),
  rssMiB: { start: +(rssStart / 2 ** 20).toFixed(1), end: +(rss / 2 ** 20).toFixed(1) },
  sink: sink > 0,
}));
