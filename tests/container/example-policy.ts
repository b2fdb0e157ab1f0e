// What GCRA predicts for deploy/policy.example.yaml's `login` limit (5 a minute, burst 5), the
// limit the container tests hit through HAProxy: after k allowed POST /login at once, remaining
// 5 − k and reset 12·k s; then 429 with Retry-After 12 (one emission interval) and nothing moved.
import { denied, ok, type Seen } from "../helpers/gcra-expect.ts";

/** RateLimit-Policy for a POST /login: every enforcing limit that matched (per-ip and login). */
export const LOGIN_POLICY = '"per-ip";q=100;w=1, "login";q=5;w=60';

/** The responses of `count` POST /login from one fresh client, one after another. */
export function loginSeries(count: number): Seen[] {
  return Array.from({ length: count }, (_, i) =>
    i < 5 ? ok(`"login";r=${4 - i};t=${12 * (i + 1)}`, LOGIN_POLICY) : denied('"login";r=0;t=60', 12, LOGIN_POLICY));
}
