// The two-phase script (src/ratelimit/response/phase-lua.ts) against real valkey-server 8 and 9,
// standalone and cluster: the same cases as tests/ratelimit/response/phase.test.ts, on the
// server's clock. Parameters are chosen so the few milliseconds a test takes change no
// integer it asserts (T = 1 s; leases of 30 s, or 400 ms where expiry itself is the point).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import type { PhaseCheck, Settlement } from "../../../src/ratelimit/response/phase.ts";
import type { Clock } from "../../../src/ratelimit/store.ts";
import { createValkeyStore, type ValkeyStore } from "../../../src/ratelimit/valkey/store.ts";
import { startCluster, startValkey, VALKEY_VERSIONS, valkeyLabel, type ValkeyCluster, type ValkeyProcess } from "../../helpers/valkey.ts";

const clock: Clock = { nowUs: () => Date.now() * 1000 };
const S = 1_000_000;
const TOKENS = { emissionIntervalUs: S, burstToleranceUs: 59 * S };
let unique = 0;

function limits(tag: string) {
  const key = `{${tag}}:tokens:1`;
  return {
    key,
    tokens: (estimate = 0, lease?: { max: number; ttlUs: number }): PhaseCheck => ({ key, params: TOKENS, cost: estimate, shadow: false, rate: "postpaid", lease }),
    perIp: { key: `{${tag}}:per-ip:2`, params: { emissionIntervalUs: S, burstToleranceUs: S }, cost: 1, shadow: false, rate: "request", lease: undefined } as PhaseCheck,
    settle: (actual: number | undefined, estimate = 0, lease = false): Settlement => ({ key, params: TOKENS, rate: "postpaid", estimate, actual, lease }),
  };
}

function phaseCases(open: () => Promise<ValkeyStore>, cli: (...args: string[]) => Promise<string>) {
  test("a response pushes a key into debt: the next request is denied for the debt plus one unit (31 s), remaining 0", async () => {
    const s = await open();
    const l = limits(`debt${unique++}`);
    expect((await s.request([l.tokens()], "a")).allowed).toBe(true);
    const [settled] = await s.response([l.settle(90)], "a");
    expect([settled.released, settled.remaining, Math.round(settled.resetUs / S)]).toEqual([false, 0, 90]);
    const denied = await s.request([l.tokens()], "b");
    expect([denied.allowed, denied.decidingIndex, Math.round(denied.results[0].retryAfterUs / S), denied.results[0].remaining]).toEqual([false, 0, 31, 0]);
    // The TAT lives as long as the debt: PTTL ≈ 90 s.
    expect(Math.round(Number(await cli("PTTL", `t:${l.key}`)) / 1000)).toBe(90);
  });

  test("an unknown actual cost (−1) leaves the TAT as the estimate made it, and still releases the lease", async () => {
    const s = await open();
    const l = limits(`unknown${unique++}`);
    const leased = l.tokens(10, { max: 1, ttlUs: 30 * S });
    expect((await s.request([leased], "a")).allowed).toBe(true);
    const before = await cli("GET", `t:${l.key}`);
    const [settled] = await s.response([l.settle(undefined, 10, true)], "a");
    expect(settled.released).toBe(true);
    expect(await cli("GET", `t:${l.key}`)).toBe(before);
    expect((await s.request([leased], "b")).allowed).toBe(true);
  });

  test("concurrency: max leases, then denied with leaseDenied and Retry-After 1 s; a release frees exactly one slot, once", async () => {
    const s = await open();
    const l = limits(`lease${unique++}`);
    const leased = l.tokens(0, { max: 2, ttlUs: 30 * S });
    expect((await s.request([leased], "a")).results[0].inFlight).toBe(1);
    expect((await s.request([leased], "b")).results[0].inFlight).toBe(2);
    const third = await s.request([leased], "c");
    expect([third.allowed, third.results[0].leaseDenied, third.results[0].retryAfterUs, third.results[0].inFlight]).toEqual([false, true, S, 2]);
    expect((await s.response([l.settle(0, 0, true)], "a"))[0].released).toBe(true);
    expect((await s.response([l.settle(0, 0, true)], "a"))[0].released).toBe(false);
    expect((await s.request([leased], "c")).allowed).toBe(true);
    expect((await s.request([leased], "d")).allowed).toBe(false);
    // The set expires with its latest lease: PTTL ≤ 30 s.
    expect(Number(await cli("PTTL", `t:${l.key}:lease`))).toBeLessThanOrEqual(30_000);
  });

  test("a lease whose response never comes stops counting at its ttl (400 ms), not before", async () => {
    const s = await open();
    const l = limits(`expiry${unique++}`);
    const leased = l.tokens(0, { max: 1, ttlUs: 400_000 });
    const start = Date.now();
    expect((await s.request([leased], "lost")).allowed).toBe(true);
    const during = await s.request([leased], "b");
    if (Date.now() - start < 350) expect(during.allowed).toBe(false);
    await Bun.sleep(450 - (Date.now() - start));
    expect((await s.request([leased], "b")).allowed).toBe(true);
    expect((await s.response([l.settle(0, 0, true)], "lost"))[0].released).toBe(false);
  });

  test("all-or-nothing: denied by the lease, the per-IP TAT is untouched; denied by per-IP, no lease is taken", async () => {
    const s = await open();
    const l = limits(`aon${unique++}`);
    const leased = l.tokens(0, { max: 1, ttlUs: 30 * S });
    expect((await s.request([l.perIp, leased], "a")).allowed).toBe(true);
    const tat = await cli("GET", `t:${l.perIp.key}`);
    const byLease = await s.request([l.perIp, leased], "b");
    expect([byLease.allowed, byLease.decidingIndex]).toEqual([false, 1]);
    expect(await cli("GET", `t:${l.perIp.key}`)).toBe(tat);
    await s.response([l.settle(0, 0, true)], "a");
    expect((await s.request([l.perIp, leased], "c")).allowed).toBe(true); // per-ip's second unit
    await s.response([l.settle(0, 0, true)], "c");
    const byRate = await s.request([l.perIp, leased], "d");
    expect([byRate.allowed, byRate.decidingIndex, byRate.results[1].inFlight]).toEqual([false, 0, 0]);
    expect(await cli("ZCARD", `t:${l.key}:lease`)).toBe("0");
  });

  test("the phases of requests issued in one event-loop turn share one script call", async () => {
    const s = await open();
    const l = limits(`batch${unique++}`);
    const leased = l.tokens(0, { max: 5, ttlUs: 30 * S });
    await s.request([leased], "warm"); // the script is loaded on this connection
    const calls = async () => Number(/cmdstat_evalsha:calls=(\d+)/.exec(await cli("INFO", "commandstats"))?.[1] ?? 0);
    const before = await calls();
    const verdicts = await Promise.all(Array.from({ length: 8 }, (_, i) => s.request([leased], `r${i}`)));
    expect(verdicts.filter((d) => d.allowed).length).toBe(4); // 5 slots, "warm" holds one
    expect(await calls()).toBe(before + 1);
  });

  test("two agents on one Valkey share one concurrency bound", async () => {
    const [a, b] = [await open(), await open()];
    const l = limits(`shared${unique++}`);
    const leased = l.tokens(0, { max: 3, ttlUs: 30 * S });
    const verdicts = await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 === 0 ? a : b).request([leased], `r${i}`)));
    expect(verdicts.filter((d) => d.allowed).length).toBe(3);
  });
}

for (const version of VALKEY_VERSIONS) {
  describe(`${valkeyLabel(version)} standalone`, () => {
    let server: ValkeyProcess;
    const stores: ValkeyStore[] = [];
    beforeAll(async () => {
      server = await startValkey({ version });
    });
    afterAll(async () => {
      await Promise.all(stores.map((s) => s.close()));
      await server?.stop();
      rmSync(server.dir, { recursive: true, force: true });
    });
    const open = async () => {
      const s = await createValkeyStore({ url: server.url, keyPrefix: "t:", deadlineMs: 1000, connections: 1, batch: true }, { clock });
      stores.push(s);
      return s;
    };
    phaseCases(open, (...args) => server.cli(...args).then((out) => out.trim()));
  });

  describe(`${valkeyLabel(version)} cluster`, () => {
    let cluster: ValkeyCluster;
    const stores: ValkeyStore[] = [];
    beforeAll(async () => {
      cluster = await startCluster(undefined, version);
    }, 30_000);
    afterAll(async () => {
      await Promise.all(stores.map((s) => s.close()));
      await cluster?.stop();
    });
    test("each phase is one script call on the slot of the request's hash tag: debt and leases hold on a 3-primary cluster", async () => {
      const s = await createValkeyStore({ nodes: cluster.urls, keyPrefix: "t:", deadlineMs: 1000, connections: 1, batch: true }, { clock });
      stores.push(s);
      for (const tag of ["alpha", "bravo", "charlie", "delta"]) {
        const l = limits(tag);
        const leased = l.tokens(0, { max: 1, ttlUs: 30 * S });
        expect((await s.request([l.perIp, leased], "a")).allowed).toBe(true);
        expect((await s.request([l.perIp, leased], "b")).results[1].leaseDenied).toBe(true);
        expect((await s.response([l.settle(90, 0, true)], "a"))[0].released).toBe(true);
        expect(Math.round((await s.request([leased], "c")).results[0].retryAfterUs / S)).toBe(31);
      }
    }, 30_000);

    test("a request whose limits span two slots (per-IP and per-API-key) is decided per slot; a denial anywhere leaves no lease and no estimate behind", async () => {
      const s = await createValkeyStore({ nodes: cluster.urls, keyPrefix: "t:", deadlineMs: 1000, connections: 1, batch: true }, { clock });
      stores.push(s);
      const ip = limits("198.51.100.1");
      const key = limits("api-key-1");
      const leased = key.tokens(5, { max: 1, ttlUs: 30 * S });
      const perIp = { ...ip.perIp, params: { emissionIntervalUs: 60 * S, burstToleranceUs: 60 * S } }; // 2 at once, then one a minute
      expect((await s.request([perIp, leased], "a")).allowed).toBe(true);
      // The key's one slot is taken: denied by the lease (per-IP's part, allowed, stays spent).
      const byLease = await s.request([perIp, leased], "b");
      expect([byLease.allowed, byLease.decidingIndex, byLease.results[1].leaseDenied]).toEqual([false, 1, true]);
      await s.response([{ ...key.settle(5, 5, true) }], "a");
      // Now per-IP is spent: denied by it, and the lease the other slot took is given back, its estimate refunded.
      const byIp = await s.request([perIp, leased], "c");
      expect([byIp.allowed, byIp.decidingIndex]).toEqual([false, 0]);
      // The slot is free (d is alone in flight), and the key holds a's 5 tokens plus d's estimate of
      // 5: c's estimate was refunded (15 s otherwise).
      expect((await s.request([leased], "d")).results[0].inFlight).toBe(1);
      const [settled] = await s.response([key.settle(5, 5, true)], "d");
      expect([settled.released, Math.round(settled.resetUs / S)]).toEqual([true, 10]);
      // A ticket naming keys of both slots settles each on its own slot.
      const both = await s.response([{ key: perIp.key, params: perIp.params, rate: "request", estimate: 0, actual: undefined, lease: false }, key.settle(1, 0, false)], "e");
      expect([both.length, Math.round(both[1].resetUs / S)]).toEqual([2, 11]);
    }, 30_000);
  });
}
