// What a response through HAProxy looks like to the e2e tests that run
// tests/e2e/fixtures/policy-haproxy.yaml (per-ip 1/10s burst 5, login 1/m burst 2), and the
// responses GCRA predicts for it. After k allowed requests at ~t0: remaining = burst − k,
// reset = k·T (T = 10 s); a denied request retries after T and writes nothing.
import type { HttpResponse } from "./http-client.ts";

export const PER_IP_POLICY = '"per-ip";q=1;w=10';
export const LOGIN_POLICY = '"per-ip";q=1;w=10, "login";q=1;w=60';

/** The parts of a response the tests compare: status and the rate-limit headers present. */
export interface Seen {
  status: number;
  rateLimit?: string;
  policy?: string;
  retryAfter?: string;
}

/** What the test checks of one response. */
export function seen(response: HttpResponse): Seen {
  const out: Seen = { status: response.status };
  const rateLimit = response.headers.get("ratelimit");
  const policy = response.headers.get("ratelimit-policy");
  const retryAfter = response.headers.get("retry-after");
  if (rateLimit !== undefined) out.rateLimit = rateLimit;
  if (policy !== undefined) out.policy = policy;
  if (retryAfter !== undefined) out.retryAfter = retryAfter;
  return out;
}

/** A 200 as predicted: the deciding limit's RateLimit item and the enforcing policies. */
export function ok(rateLimit: string, policy = PER_IP_POLICY): Seen {
  return { status: 200, rateLimit, policy };
}

/** A 429 as predicted. */
export function denied(rateLimit: string, retryAfter: number, policy = PER_IP_POLICY): Seen {
  return { status: 429, rateLimit, policy, retryAfter: String(retryAfter) };
}

/** The five allowed responses of a fresh client, then `extra` denials (per-ip, 1/10s burst 5). */
export function freshBurst(extra: number): Seen[] {
  return [
    ok('"per-ip";r=4;t=10'),
    ok('"per-ip";r=3;t=20'),
    ok('"per-ip";r=2;t=30'),
    ok('"per-ip";r=1;t=40'),
    ok('"per-ip";r=0;t=50'),
    ...Array.from({ length: extra }, () => denied('"per-ip";r=0;t=50', 10)),
  ];
}

/** Sends `count` requests one after another and collects what each looked like. */
export async function series(count: number, send: () => Promise<Seen>): Promise<Seen[]> {
  const out: Seen[] = [];
  for (let i = 0; i < count; i++) out.push(await send());
  return out;
}
