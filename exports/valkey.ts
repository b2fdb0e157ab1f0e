/**
 * The Valkey limiter store: GCRA state shared by every agent instance, one atomic script call
 * per request (micro-batched per node), over standalone, Sentinel or Cluster Valkey. This
 * entry loads the `redis` client and `node:` modules; the core entry (`@spoa-gcra/spoa-gcra`)
 * does not.
 *
 * @example Share limits through Valkey, failing open to memory when it is down
 * ```ts
 * import { MemoryStore, ResilientStore } from "@spoa-gcra/spoa-gcra";
 * import { clock } from "@spoa-gcra/spoa-gcra/bun";
 * import { createValkeyStore } from "@spoa-gcra/spoa-gcra/valkey";
 *
 * const valkey = await createValkeyStore(
 *   { url: "redis://127.0.0.1:1", keyPrefix: "rl:", deadlineMs: 10, connections: 1, batch: true },
 *   { clock, connectWaitMs: 100 },
 * );
 * const store = new ResilientStore({ primary: valkey, fallback: new MemoryStore({ clock }), policy: "local", clock });
 * const decision = await store.check([{ key: "rl:{198.51.100.4}:api", params: { emissionIntervalUs: 1000, burstToleranceUs: 0 }, cost: 1, shadow: false }]);
 * console.assert(decision.allowed && decision.degraded); // nothing listens on port 1: the memory store decided
 * await store.close();
 * ```
 * @module
 */
export { createValkeyStore, type ValkeyStore, type ValkeyStoreDeps } from "../src/ratelimit/valkey/store.ts";
export type { ValkeyStoreOptions } from "../src/ratelimit/valkey/options.ts";
export { type ValkeyErrorCode, ValkeyStoreError } from "../src/ratelimit/valkey/errors.ts";
export type { LogFn } from "../src/ratelimit/valkey/log-throttle.ts";
export type { DialedSocket, Dialer, DialSink } from "../src/ratelimit/valkey/pipeline/dial.ts";
