/**
 * The GCRA script of the lean path: the same formulas, reply and commit rule as ../../gcra-lua.ts
 * (read that file for the maths), with what Valkey does per decision cut down:
 *
 * - **Packed arguments.** All checks of all requests travel in ARGV[1], one binary string:
 *   per request a byte `checkCount`, then per check `T, τ, cost` as little-endian doubles and a
 *   `shadow` byte (`<dddB`, 25 bytes). Valkey parses one bulk argument instead of 1 + 4 per
 *   check, Lua creates one string instead of four, and `struct.unpack` reads each check in one
 *   C call instead of four `tonumber`s. Doubles are Lua 5.1's own numbers: exact below 2^53.
 * - **No tables per request.** The per-check scratch tables are made once per call and
 *   overwritten; the old script built eight per request.
 *
 * KEYS are unchanged (the keys of request 1's checks, then request 2's …): a cluster node checks
 * them against its slots, and ACLs against the key patterns.
 * @module
 */
import { GCRA_CHECK_LUA, GCRA_COMMIT_LUA, SERVER_NOW_LUA } from "../../gcra-lua.ts";

/** Bytes per check in the packed argument: T, τ, cost (doubles), shadow (byte). */
export const PACKED_CHECK_BYTES = 25;

/** The Lua source (Valkey 8/9, Lua 5.1 with the struct library). */
export const GCRA_PACKED_LUA = `
${SERVER_NOW_LUA}local blob = ARGV[1]
local size = #blob
local unpack = struct.unpack
local out = {}
local o = 0
local k = 0
local pos = 1
local T, cap, tat, newTat, ok, never, retry, shadow = {}, {}, {}, {}, {}, {}, {}, {}
while pos <= size do
  local n
  n, pos = unpack('<B', blob, pos)
  local reqOk = true
  for i = 1, n do
    local em, tau, cost, sh
    em, tau, cost, sh, pos = unpack('<dddB', blob, pos)
    local c = tau + em
    local inc = cost * em
    shadow[i] = sh == 1
${GCRA_CHECK_LUA}  end
${GCRA_COMMIT_LUA}end
return out
`;
