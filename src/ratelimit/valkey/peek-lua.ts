/**
 * The read-only script behind `inspect`: one key's TAT and remaining lifetime on the server's
 * clock, the clock the GCRA script decides with (gcra-lua.ts), so what an operator sees is what
 * the next decision would see.
 *
 * `no-writes` lets Valkey refuse it any write and run it on a replica; it is sent with EVAL
 * each time (an operator's occasional call, not worth the SCRIPT LOAD bookkeeping).
 * ```
 * KEYS  = [key]
 * reply = [TIME seconds, TIME microseconds, GET key (nil when absent), PTTL key (-2 absent, -1 no expiry)]
 * ```
 * @module
 */

/** The Lua source (Valkey 7+ shebang flags). */
export const PEEK_KEY_LUA = `#!lua flags=no-writes
local t = redis.call('TIME')
return { t[1], t[2], redis.call('GET', KEYS[1]), redis.call('PTTL', KEYS[1]) }
`;
