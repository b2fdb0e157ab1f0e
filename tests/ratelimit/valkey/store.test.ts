// The Valkey store against a real standalone valkey-server: script semantics beyond the
// contract suite (TTLs, parity with MemoryStore, server clock), SCRIPT FLUSH, an outage with
// the ResilientStore around it, ACL/password auth and TLS.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { MemoryStore } from "../../../src/ratelimit/memory/store.ts";
import { ResilientStore, type StoreEvent } from "../../../src/ratelimit/resilience/resilient-store.ts";
import type { Clock, Decision, GcraParams, LimitCheck } from "../../../src/ratelimit/store.ts";
import type { ValkeyStoreOptions } from "../../../src/ratelimit/valkey/options.ts";
import { createValkeyStore, type ValkeyStore } from "../../../src/ratelimit/valkey/store.ts";
import { ValkeyStoreError } from "../../../src/ratelimit/valkey/errors.ts";
import { makeTlsFiles, startValkey, tempDir, type TlsFiles, type ValkeyProcess } from "../../helpers/valkey.ts";

const realClock: Clock = { nowUs: () => Date.now() * 1000 };
const HOUR_US = 3_600_000_000;
/** One unit per hour, burst 3: real time passing during a test changes nothing. */
const SLOW: GcraParams = { emissionIntervalUs: HOUR_US, burstToleranceUs: 2 * HOUR_US };
const SECOND: GcraParams = { emissionIntervalUs: 1_000_000, burstToleranceUs: 2_000_000 };

const base = (url: string): ValkeyStoreOptions => ({ url, keyPrefix: "t:", deadlineMs: 500, connections: 2, batch: false });
const check = (key: string, params: GcraParams, cost = 1, shadow = false): LimitCheck => ({ key, params, cost, shadow });
/** Equal up to real time passing: everything but retry/reset exact, those within 60 s. */
function comparable(d: Decision) {
  return {
    allowed: d.allowed,
    decidingIndex: d.decidingIndex,
    results: d.results.map((r) => ({
      allowed: r.allowed,
      neverPasses: r.neverPasses,
      remaining: r.remaining,
      retryAfterS: Math.round(r.retryAfterUs / 60e6),
      resetS: Math.round(r.resetUs / 60e6),
    })),
  };
}

let unhandled = 0;
const onUnhandled = () => unhandled++;
let server: ValkeyProcess;
const stores: ValkeyStore[] = [];
async function store(options: Partial<ValkeyStoreOptions> = {}, clock = realClock): Promise<ValkeyStore> {
  const s = await createValkeyStore({ ...base(server.url), ...options }, { clock });
  stores.push(s);
  return s;
}

beforeAll(async () => {
  process.on("unhandledRejection", onUnhandled);
  server = await startValkey();
});
afterAll(async () => {
  await Promise.all(stores.map((s) => s.close()));
  await server?.stop();
  rmSync(server.dir, { recursive: true, force: true });
  process.off("unhandledRejection", onUnhandled);
});

describe("ValkeyStore script", () => {
  test("check() commits the TAT with a PX TTL of ceil((tat' − now)/1000) ms and refreshes it", async () => {
    const s = await store();
    await s.check([check("{ttl}:a", SECOND)]);
    const first = Number(await server.cli("PTTL", "t:{ttl}:a"));
    expect(first).toBeGreaterThan(900);
    expect(first).toBeLessThanOrEqual(1000);
    await s.check([check("{ttl}:a", SECOND)]);
    const second = Number(await server.cli("PTTL", "t:{ttl}:a"));
    expect(second).toBeGreaterThan(1900);
    expect(second).toBeLessThanOrEqual(2000);
  });

  test("check() writes nothing when an enforcing limit denies, and shadow limits never deny", async () => {
    const s = await store();
    const never = check("{deny}:big", SECOND, 10);
    const d = await s.check([check("{deny}:ok", SECOND), never]);
    expect(d.allowed).toBe(false);
    expect(d.decidingIndex).toBe(1);
    expect(d.results[1]).toEqual({ allowed: false, neverPasses: true, retryAfterUs: 0, remaining: 3, resetUs: 0 });
    expect(await server.cli("EXISTS", "t:{deny}:ok")).toBe("0");
    const shadowed = await s.check([check("{deny}:ok", SECOND), { ...never, shadow: true }]);
    expect(shadowed.allowed).toBe(true);
    expect(shadowed.decidingIndex).toBe(0);
    expect(await server.cli("EXISTS", "t:{deny}:ok")).toBe("1");
  });

  test("the same request sequence gives the same decisions on Valkey and on MemoryStore", async () => {
    const s = await store();
    const memory = new MemoryStore({ clock: realClock });
    const seq: LimitCheck[][] = [];
    for (let i = 0; i < 12; i++) {
      seq.push([check(`{par}:a`, SLOW, i % 3), check(`{par}:b`, { emissionIntervalUs: HOUR_US, burstToleranceUs: 4 * HOUR_US }, 1, i % 4 === 0)]);
      seq.push([check(`{par}:c`, SLOW, 4), check(`{par}:a`, { emissionIntervalUs: HOUR_US / 2, burstToleranceUs: 0 }, 1, true)]);
    }
    for (const checks of seq) {
      expect(comparable(await s.check(checks))).toEqual(comparable(memory.check(checks)));
    }
  });

  test("an agent clock skewed by ±1 hour changes no decision: the script uses the server's TIME", async () => {
    const ahead = await store({}, { nowUs: () => Date.now() * 1000 + HOUR_US });
    const behind = await store({}, { nowUs: () => Date.now() * 1000 - HOUR_US });
    const a = [await ahead.check([check("{skew}:x", SLOW)]), await behind.check([check("{skew}:x", SLOW)])];
    const b = [await behind.check([check("{skew}:y", SLOW)]), await ahead.check([check("{skew}:y", SLOW)])];
    expect(a.map(comparable)).toEqual(b.map(comparable));
    expect(a[1].results[0].remaining).toBe(1);
  });

  test("SCRIPT FLUSH in the middle of traffic is invisible (EVALSHA falls back to EVAL)", async () => {
    const s = await store({ batch: true });
    const outcomes: Promise<Decision>[] = [];
    for (let i = 0; i < 200; i++) {
      if (i === 100) await server.cli("SCRIPT", "FLUSH");
      outcomes.push(Promise.resolve(s.check([check(`{flush${i % 50}}:k`, SLOW)])));
      if (i % 20 === 0) await Bun.sleep(1);
    }
    const decisions = await Promise.all(outcomes);
    expect(decisions.filter((d) => d.allowed).length).toBe(150);
  });

  test("batched and unbatched stores decide each request atomically and in order", async () => {
    const batched = await store({ batch: true });
    const plain = await store({ batch: false });
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) => (i % 2 ? batched : plain).check([check(`{order}:k`, SLOW)])),
    );
    expect(results.filter((d) => d.allowed).length).toBe(3);
    expect(batched.lateReplies + plain.lateReplies).toBe(0);
  });

  test("every answered decision is reported once as a round trip, batched or not", async () => {
    for (const batch of [true, false]) {
      const events: StoreEvent[] = [];
      const s = await createValkeyStore({ ...base(server.url), batch }, { clock: realClock, onEvent: (e) => events.push(e) });
      stores.push(s);
      await Promise.all(Array.from({ length: 5 }, (_, i) => s.check([check(`{rt${i}}:k`, SLOW)])));
      const trips = events.filter((e) => e.kind === "round-trip");
      expect(trips.length).toBe(5);
      for (const e of trips) expect(e.kind === "round-trip" && e.seconds > 0 && e.seconds < 5).toBe(true);
    }
  });

  test("ping() is true against a live server", async () => {
    expect(await (await store()).ping()).toBe(true);
  });
});

describe("ValkeyStore outage under ResilientStore", () => {
  test("a stopped Valkey costs no crash, no hang and no unhandled rejection; the breaker opens and closes", async () => {
    const dir = tempDir();
    const own = await startValkey({}, dir);
    const events: StoreEvent[] = [];
    const primary = await createValkeyStore({ ...base(own.url), deadlineMs: 50 }, { clock: realClock });
    const resilient = new ResilientStore({
      primary,
      fallback: new MemoryStore({ clock: realClock }),
      policy: "local",
      clock: realClock,
      breaker: { failureThreshold: 3, initialBackoffMs: 100, maxBackoffMs: 400 },
      onEvent: (e) => events.push(e),
    });
    try {
      expect((await resilient.check([check("{out}:a", SLOW)])).degraded).toBe(false);
      await own.stop();
      const during: Decision[] = [];
      for (let i = 0; i < 30; i++) {
        during.push(await resilient.check([check(`{out}:b`, SLOW)]));
        await Bun.sleep(5);
      }
      expect(during.every((d) => d.degraded)).toBe(true);
      expect(during.filter((d) => d.allowed).length).toBe(3); // the local MemoryStore decided
      expect(events).toContainEqual({ kind: "breaker", state: "open", node: "", nodeState: "open" });
      expect(events.some((e) => e.kind === "degraded" && e.reason === "breaker-open")).toBe(true);
      await own.restart();
      let back: Decision | undefined;
      for (let i = 0; i < 200 && !back; i++) {
        const d = await resilient.check([check(`{out}:c`, SLOW)]);
        if (!d.degraded) back = d;
        else await Bun.sleep(20);
      }
      expect(back?.allowed).toBe(true);
      expect(resilient.breakerState).toBe("closed");
      expect(unhandled).toBe(0);
    } finally {
      await resilient.close();
      await own.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("ValkeyStore authentication and TLS", () => {
  const password = "s3cret-Pa55";
  let secured: ValkeyProcess;
  let tls: TlsFiles;
  const dir = tempDir();
  beforeAll(async () => {
    tls = makeTlsFiles(dir);
    secured = await startValkey({ password, aclUser: { name: "limiter", password: "acl-Pa55" }, tls }, dir);
  });
  afterAll(async () => {
    await secured?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /**
   * "decided", or why not: the error the check threw (code and message) and what the store
   * logged, so a test can tell a refused login from a server that is not there at all.
   */
  async function attempt(options: Partial<ValkeyStoreOptions>, url = secured.url): Promise<string> {
    const logs: string[] = [];
    const s = await createValkeyStore({ ...base(url), ...options }, {
      clock: realClock,
      connectWaitMs: 1000,
      log: (level, msg, fields) => logs.push(`${level} ${msg} ${JSON.stringify(fields)}`),
    });
    try {
      const d = await s.check([check(`{auth}:${Math.random()}`, SECOND)]);
      return d.allowed ? "decided" : "denied";
    } catch (error) {
      const code = error instanceof ValkeyStoreError ? error.code : "unexpected";
      return `failed: ${code}: ${error instanceof Error ? error.message : String(error)} | ${logs.join(" | ")}`;
    } finally {
      await s.close();
      for (const line of logs) expect(line).not.toContain(password);
      for (const line of logs) expect(line).not.toContain("acl-Pa55");
    }
  }
  const works = async (options: Partial<ValkeyStoreOptions>, url?: string) => (await attempt(options, url)) === "decided";

  test("a password-only (requirepass) connection decides; a wrong password is refused by the server", async () => {
    expect(await attempt({ password })).toBe("decided");
    expect(await attempt({ password: "wrong" })).toMatch(/^failed: .*(WRONGPASS|invalid username-password)/);
  });

  test("an ACL user with a password decides", async () => {
    expect(await works({ username: "limiter", password: "acl-Pa55" })).toBe(true);
    expect(await works({}, `redis://limiter:acl-Pa55@127.0.0.1:${secured.port}`)).toBe(true);
  });

  test("TLS with a custom CA decides, with and without a client certificate", async () => {
    const url = `rediss://127.0.0.1:${secured.tlsPort}`;
    expect(await works({ password, tls: { ca: tls.ca } }, url)).toBe(true);
    expect(await works({ password, tls: { ca: tls.ca, cert: tls.clientCert, key: tls.clientKey } }, url)).toBe(true);
  });

  test("TLS refuses a server whose CA is not trusted", async () => {
    const other = makeTlsFiles(tempDir());
    expect(await attempt({ password, tls: { ca: other.ca } }, `rediss://127.0.0.1:${secured.tlsPort}`)).toMatch(/^failed: .*(certificate|self[- ]signed)/i);
    rmSync(other.dir, { recursive: true, force: true });
  });
});
