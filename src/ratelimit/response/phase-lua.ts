/**
 * The two phases as one Lua script inside Valkey, on the server's clock: the same formulas as
 * phase.ts, postpaid.ts and lease.ts, line by line. One call per phase of a request; every key
 * of a request shares its hash tag (keys.ts), and a check's lease set is its key plus `:lease`,
 * so one call touches one cluster slot.
 *
 * Leases are a sorted set per key: member = the request's lease id, score = its expiry in µs.
 * `ZREMRANGEBYSCORE key -inf now` drops expired members before counting (invisible: they no
 * longer count anyway); the set's own PEXPIRE follows the latest expiry, so a key whose
 * responses were all lost disappears by itself.
 *
 * Calling convention (one call may carry several phases of several requests, micro-batched
 * per tick like the GCRA script; each is decided atomically and in order):
 * ```
 * KEYS = per phase, per check: key, key..':lease'
 * ARGV = [phaseCount, then per phase: mode, leaseId, n, then per check:]
 *   request ('req'):  rate (1 request | 2 postpaid), T, τ, cost, shadow 0|1, leaseMax (0 none), leaseTtlUs
 *   response ('res'): rate (1|2), T, τ, estimate, actual (−1 unknown), lease 0|1
 * reply = per phase:
 *   request:  [allowed, decidingIndex, per check: allowed, neverPasses, retryAfterUs, remaining, resetUs, leaseDenied, inFlight]
 *   response: per settlement: [released, remaining, resetUs]
 * ```
 * Numbers are exact as in gcra-lua.ts (epoch µs < 2^53; TATs stored with `%.0f`).
 * @module
 */
import { CHECK_REPLY_LUA, SERVER_NOW_LUA } from "../gcra-lua.ts";

/** Integers per check in a request reply (after the two of the header). */
export const PHASE_REQUEST_REPLY = 7;
/** Integers per settlement in a response reply. */
export const PHASE_RESPONSE_REPLY = 3;

/** The Lua source (Valkey 8 / Lua 5.1). */
export const PHASE_LUA = `
${SERVER_NOW_LUA}local out = {}
local o = 0
local k = 0
local function rem(cap, ahead, em)
  local r = math.floor((cap - ahead) / em)
  if r < 0 then r = 0 end
  return r
end
local function keep(key, tat)
  local ttl = math.ceil((tat - now) / 1000)
  if ttl < 1 then ttl = 1 end
  redis.call('SET', key, string.format('%.0f', tat), 'PX', string.format('%.0f', ttl))
end
local function req(a, id, n)
  local T, cap, tat, nt, ok, never, retry, shadow, lmax, lttl, live, ldenied = {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}
  local reqOk = true
  for i = 1, n do
    local kind = ARGV[a]
    local em = tonumber(ARGV[a + 1])
    local c = tonumber(ARGV[a + 2]) + em
    local cost = tonumber(ARGV[a + 3])
    shadow[i] = ARGV[a + 4] == '1'
    lmax[i] = tonumber(ARGV[a + 5])
    lttl[i] = tonumber(ARGV[a + 6])
    a = a + 7
    local stored = tonumber(redis.call('GET', KEYS[k + 2 * i - 1]) or '')
    local cur = now
    local rok, rnever, rretry, rnt
    if kind == '2' then
      if stored and stored > now then cur = stored end
      local need = cost
      if need < 1 then need = 1 end
      if need * em > c then
        rok, rnever, rretry, rnt = false, true, 0, cur
      else
        local allowAt = cur + need * em - c
        if now >= allowAt then rok, rnever, rretry, rnt = true, false, 0, cur + cost * em
        else rok, rnever, rretry, rnt = false, false, allowAt - now, cur end
      end
    else
      if stored then
        if stored < now then cur = now elseif stored > now + c then cur = now + c else cur = stored end
      end
      local inc = cost * em
      if inc > c then
        rok, rnever, rretry, rnt = false, true, 0, cur
      else
        local allowAt = cur + inc - c
        if now >= allowAt then rok, rnever, rretry, rnt = true, false, 0, cur + inc
        else rok, rnever, rretry, rnt = false, false, allowAt - now, cur end
      end
    end
    live[i] = 0
    ldenied[i] = false
    if lmax[i] > 0 then
      redis.call('ZREMRANGEBYSCORE', KEYS[k + 2 * i], '-inf', string.format('%.0f', now))
      live[i] = redis.call('ZCARD', KEYS[k + 2 * i])
      ldenied[i] = live[i] >= lmax[i]
    end
    if ldenied[i] and not rnever and rretry < 1000000 then rretry = 1000000 end
    ok[i] = rok and not ldenied[i]
    if ok[i] then rretry = 0 end
    T[i], cap[i], tat[i], nt[i], never[i], retry[i] = em, c, cur, rnt, rnever, rretry
    if not ok[i] and not shadow[i] then reqOk = false end
  end
  local deciding = -1
  local fewest = nil
  local hdr = o
  o = o + 2
  for i = 1, n do
    local final = tat[i]
    local inFlight = live[i]
    if reqOk and ok[i] then
      final = nt[i]
      if final > now and final ~= tat[i] then keep(KEYS[k + 2 * i - 1], final) end
      if lmax[i] > 0 then
        local expiry = now + lttl[i]
        redis.call('ZADD', KEYS[k + 2 * i], string.format('%.0f', expiry), id)
        local ms = math.ceil(lttl[i] / 1000)
        if redis.call('PTTL', KEYS[k + 2 * i]) < ms then redis.call('PEXPIRE', KEYS[k + 2 * i], string.format('%.0f', ms)) end
        inFlight = inFlight + 1
      end
    end
    local remaining = rem(cap[i], final - now, T[i])
${CHECK_REPLY_LUA}    out[o + 6] = ldenied[i] and 1 or 0
    out[o + 7] = inFlight
    o = o + 7
  end
  out[hdr + 1] = reqOk and 1 or 0
  out[hdr + 2] = deciding
  return a
end
local function res(a, id, n)
  for i = 1, n do
    local kind = ARGV[a]
    local em = tonumber(ARGV[a + 1])
    local c = tonumber(ARGV[a + 2]) + em
    local est = tonumber(ARGV[a + 3])
    local act = tonumber(ARGV[a + 4])
    local lease = ARGV[a + 5] == '1'
    a = a + 6
    local stored = tonumber(redis.call('GET', KEYS[k + 2 * i - 1]) or '')
    local released = 0
    if lease then
      local expiry = redis.call('ZSCORE', KEYS[k + 2 * i], id)
      if expiry then
        redis.call('ZREM', KEYS[k + 2 * i], id)
        if tonumber(expiry) > now then released = 1 end
      end
    end
    local cur = now
    if stored and stored > now then cur = stored end
    if kind == '2' and act >= 0 then
      local next = cur + (act - est) * em
      if next < now then next = now end
      if next > now + 2 * c then next = now + 2 * c end
      if next > now then keep(KEYS[k + 2 * i - 1], next) elseif stored then redis.call('DEL', KEYS[k + 2 * i - 1]) end
      cur = next
    end
    out[o + 1] = released
    out[o + 2] = rem(c, cur - now, em)
    out[o + 3] = cur - now
    o = o + 3
  end
  return a
end
local a = 2
for p = 1, tonumber(ARGV[1]) do
  local mode, id, n = ARGV[a], ARGV[a + 1], tonumber(ARGV[a + 2])
  if mode == 'req' then a = req(a + 3, id, n) else a = res(a + 3, id, n) end
  k = k + 2 * n
end
return out
`;
