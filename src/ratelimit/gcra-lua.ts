/**
 * The GCRA Lua script that runs inside Valkey: the same formulas as gcra.ts, evaluated
 * atomically for every check of a request on the server's clock.
 *
 * Why the server clock: the script reads `TIME` once and uses it for every check of every
 * request in the call, so agents whose own clocks disagree still make the same decisions.
 *
 * Formulas (all integers in µs; line by line the same as gcra.ts):
 * ```
 * capacity  = τ + T
 * tat       = stored absent ? now : clamp(stored, now, now + capacity)
 * increment = cost × T
 * if increment > capacity: denied, neverPasses, retryAfter 0, TAT unchanged
 * newTat = tat + increment;  allowAt = newTat − capacity;  allowed = now ≥ allowAt
 * allowed: tat' = newTat, retry 0;   denied: tat' = tat, retry = allowAt − now
 * remaining = max(0, floor((capacity − (tat' − now)) / T));  reset = tat' − now
 * ```
 * The request is allowed iff every non-shadow check allowed; only then is each check that
 * itself allowed committed (`SET key tat' PX ceil((tat' − now)/1000) ≥ 1`). When the request
 * is denied nothing is written and remaining/reset use the unchanged TAT. Every key is read
 * before any is written, so a request that names one key twice sees one state.
 *
 * Calling convention (one call may carry several requests: micro-batching; each request is
 * still decided atomically and in order, since the whole script is atomic):
 * ```
 * KEYS = the keys of request 1's checks, then request 2's, ...
 * ARGV = [requestCount, then per request: checkCount, then per check: T, τ, cost, shadow(0|1)]
 * reply = per request: [allowed(0|1), decidingIndex(0-based | -1),
 *                       then per check: allowed, neverPasses, retryAfterUs, remaining, resetUs]
 * ```
 * Lua 5.1 numbers are doubles: epoch µs (~1.8e15) and all sums here stay below 2^53, so they
 * are exact. The reply holds only integers (a Lua float would be truncated by the integer
 * conversion, and `tostring` prints 14 significant digits), and TATs are stored with `%.0f`.
 * @module
 */

/** Integers per request header in the reply: allowed, decidingIndex. */
export const REPLY_REQUEST_HEADER = 2;
/** Integers per check in the reply: allowed, neverPasses, retryAfterUs, remaining, resetUs. */
export const REPLY_PER_CHECK = 5;
/** Arguments per check in ARGV: T, τ, cost, shadow. */
export const ARGS_PER_CHECK = 4;

/**
 * Reads the server's clock once per call into `now` (µs): every script decides on Valkey's
 * `TIME`, never an agent's, so agents with skewed clocks agree.
 */
export const SERVER_NOW_LUA = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
`;

/**
 * One check's reply, inside the commit loop (`for i = 1, n do`): expects `final` (the TAT the
 * check ends with), `remaining`, and `ok/never/retry/shadow[i]`; tracks the deciding limit (the
 * fewest remaining among allowed non-shadow checks, or the first non-shadow denial) and writes
 * the check's five reply integers at `out[o + 1..5]`. Shared with the two-phase script
 * (response/phase-lua.ts), whose reply extends each check with two more.
 */
export const CHECK_REPLY_LUA = `    if not shadow[i] then
      if reqOk then
        if fewest == nil or remaining < fewest then fewest, deciding = remaining, i - 1 end
      elseif deciding == -1 and not ok[i] then
        deciding = i - 1
      end
    end
    out[o + 1] = ok[i] and 1 or 0
    out[o + 2] = never[i] and 1 or 0
    out[o + 3] = retry[i]
    out[o + 4] = remaining
    out[o + 5] = final - now
`;

/**
 * One check's decision, inside the loop over a request's checks (`for i = 1, n do`): expects
 * `now`, `em` (T), `c` (capacity τ + T), `inc` (cost × T), `shadow[i]`, `KEYS[k + i]`, and the
 * per-check tables; sets `T/cap/tat/newTat/ok/never/retry[i]` and clears `reqOk` on a denial.
 * Shared with the lean path's packed script (valkey/pipeline/packed-lua.ts).
 */
export const GCRA_CHECK_LUA = `    local cur = now
    local stored = tonumber(redis.call('GET', KEYS[k + i]) or '')
    if stored then
      if stored < now then cur = now elseif stored > now + c then cur = now + c else cur = stored end
    end
    T[i], cap[i], tat[i] = em, c, cur
    if inc > c then
      ok[i], never[i], retry[i], newTat[i] = false, true, 0, cur
    else
      local nt = cur + inc
      local allowAt = nt - c
      never[i], newTat[i] = false, nt
      if now >= allowAt then ok[i], retry[i] = true, 0 else ok[i], retry[i] = false, allowAt - now end
    end
    if not ok[i] and not shadow[i] then reqOk = false end
`;

/**
 * After a request's checks: commits (all or nothing), picks the deciding limit and appends the
 * request's reply; ends with `k = k + n`. Shared like GCRA_CHECK_LUA.
 */
export const GCRA_COMMIT_LUA = `  local deciding = -1
  local fewest = nil
  local hdr = o
  o = o + 2
  for i = 1, n do
    local final = tat[i]
    if reqOk and ok[i] then
      final = newTat[i]
      local ttl = math.ceil((final - now) / 1000)
      if ttl < 1 then ttl = 1 end
      redis.call('SET', KEYS[k + i], string.format('%.0f', final), 'PX', string.format('%.0f', ttl))
    end
    local remaining = math.floor((cap[i] - (final - now)) / T[i])
    if remaining < 0 then remaining = 0 end
${CHECK_REPLY_LUA}    o = o + 5
  end
  out[hdr + 1] = reqOk and 1 or 0
  out[hdr + 2] = deciding
  k = k + n
`;

/** The Lua source (Valkey 8 / Lua 5.1). */
export const GCRA_LUA = `
${SERVER_NOW_LUA}local out = {}
local o = 0
local a = 2
local k = 0
for r = 1, tonumber(ARGV[1]) do
  local n = tonumber(ARGV[a])
  a = a + 1
  local T, cap, tat, newTat, ok, never, retry, shadow = {}, {}, {}, {}, {}, {}, {}, {}
  local reqOk = true
  for i = 1, n do
    local em = tonumber(ARGV[a])
    local c = tonumber(ARGV[a + 1]) + em
    local inc = tonumber(ARGV[a + 2]) * em
    shadow[i] = ARGV[a + 3] == '1'
    a = a + 4
${GCRA_CHECK_LUA}  end
${GCRA_COMMIT_LUA}end
return out
`;
